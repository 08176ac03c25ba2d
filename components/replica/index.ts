export * from "./model";
export * from "./standby";

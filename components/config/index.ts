// Stack config: one schema (types, defaults, cross-field rules) and the Pulumi glue.
export * from "./config";

// Stack config: one schema (types, defaults, cross-field rules), the Pulumi glue,
// and the constants renderers share with the rules.
export * from "./aws";
export * from "./constants";
export * from "./images";
export * from "./load";
export * from "./parse";
export { ConfigError, type ConfigProblem } from "./problems";
export { SECTIONS, TOP_KEYS, stackSchema } from "./schema";
export * from "./backup-jobs";
export * from "./pg-settings";
export * from "./pg-settings-catalogs";

// The pack's helpers, one module per kind; pure functions and constants, no rules.
export * from "./buckets";
export * from "./containers";
export * from "./credentials";
export * from "./host-access";
export * from "./membership";
export * from "./names";
export * from "./network";
export * from "./props";
export * from "./scaffold";
export * from "./stack";

// The stack's own CA and where its certificate goes (docs/tls.md).
export * from "./names";
export * from "./stack-ca";
export * from "./postgres-files";

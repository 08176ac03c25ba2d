// pgBouncer: pgbouncer.ini, its known CVEs, the auth_query lookup SQL, the entrypoint wrapper, and the PgBouncer component.
export * from "./advisories";
export * from "./pgbouncer";
export * from "./render";
export * from "./wrapper";
export * from "./maintenance";

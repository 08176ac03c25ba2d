// pgBouncer: pgbouncer.ini, the auth_query lookup SQL, the entrypoint wrapper, and the PgBouncer component.
export * from "./pgbouncer";
export * from "./render";
export * from "./wrapper";

// pgBouncer: pgbouncer.ini, the auth_query lookup SQL, and the PgBouncer component.
export * from "./pgbouncer";
export * from "./render";

// pgAdmin: servers.json, pgpass, the entrypoint wrapper, and the PgAdmin component.
export * from "./pgadmin";
export * from "./render";

// The Postgres server area: container, image (pulled, or built with pgBackRest),
// rendered postgresql.conf / pg_hba.conf, the entrypoint wrapper and the bind address.
export * from "./entrypoint";
export * from "./image";
export * from "./pg-hba";
export * from "./postgresql-conf";
export * from "./server";
export * from "./tailnet";
export * from "./settings";
export * from "./settings-command";

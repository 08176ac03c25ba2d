// An existing server (postgres.external): the platform without a Postgres container.
export * from "./external";

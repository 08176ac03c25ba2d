// Backups: bucket, repository, sidecar, the jobs table, pgbackrest.conf and the sidecar script.
export * from "./components";
export * from "./render";

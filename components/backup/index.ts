// Backups: bucket, repository, sidecar, the jobs table, pgbackrest.conf, the age
// key of the dumps, the sidecar script and its runtime file. One file per concern;
// this re-exports the public names.
export * from "./age-key";
export * from "./bucket";
export * from "../config";
export * from "./layout";
export * from "./pgbackrest-conf";
export * from "./repository";
export * from "./s3";
export * from "./sidecar";
export * from "./sidecar-runtime";
export * from "./sidecar-script";
export * from "./sidecar-secrets";

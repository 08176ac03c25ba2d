// The PgBouncer arguments the pooler's unit tests start from: a dev config's pgbouncer
// section, its image, Postgres on the stack network and a superuser login; each test
// adds what it is about.
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../../../components/config";
import type { PgBouncerArgs } from "../../../components/pooler/pgbouncer";

export const SUPER_PW = "super-secret-pw-0123456789abcdefghij";

export function pgbouncerArgs(cfg: StackConfig, extra: Partial<PgBouncerArgs> = {}): PgBouncerArgs {
  return {
    stack: "dev",
    config: cfg.pgbouncer,
    image: { baseImage: cfg.images.trixie, platform: cfg.postgres.platform },
    apps: cfg.apps,
    network: "dev-pg",
    bindAddress: "127.0.0.1",
    postgres: { host: "postgres", port: 5432 },
    postgresMaxConnections: cfg.postgres.maxConnections,
    admin: { host: "127.0.0.1", port: 5432, password: pulumi.secret(SUPER_PW), sslmode: "disable" },
    ...extra,
  };
}

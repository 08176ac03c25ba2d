// Compliant resources, as the engine would present their inputs. Each test
// breaks one thing in a copy and expects the rule to say so.
import { ROLE_LABEL } from "../../policies/rules";

export const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
export const IMAGE_ID = `sha256:${"fedcba9876543210".repeat(4)}`;
export const TAILNET_IP = "100.101.102.103";

export type Props = Record<string, unknown>;

/** A postgres container that every container rule accepts. */
export function goodContainer(role = "postgres"): Props {
  return {
    name: `dev-${role}`,
    image: IMAGE_ID,
    ports: [{ internal: 5432, external: 5432, ip: TAILNET_IP, protocol: "tcp" }],
    securityOpts: ["no-new-privileges:true"],
    memory: 1024,
    restart: "unless-stopped",
    healthcheck: { tests: ["CMD-SHELL", "pg_isready -U postgres"], interval: "10s", retries: 5 },
    logDriver: "local",
    labels: [
      { label: ROLE_LABEL, value: role },
      { label: "homelab.postgres/stack", value: "dev" },
    ],
    envs: ["POSTGRES_PASSWORD_FILE=/run/secrets/postgres-password", "PGDATA=/var/lib/postgresql/data/pgdata"],
    uploads: [
      { file: "/run/secrets/postgres-password", content: "Zq8x-not-a-real-password", permissions: "0600", owner: "999" },
      { file: "/etc/postgresql/postgresql.conf", content: "listen_addresses = '*'\npassword_encryption = scram-sha-256\n", permissions: "0644" },
    ],
    command: ["postgres", "-c", "config_file=/etc/postgresql/postgresql.conf"],
  };
}

export function goodRemoteImage(name = "pgvector/pgvector:0.8.0-pg17"): Props {
  return { name, keepLocally: true };
}

/** Deep copy so a test can break one field without touching the fixture. */
export function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export function without(props: Props, key: string): Props {
  const c = copy(props);
  delete c[key];
  return c;
}

export function withField(props: Props, key: string, value: unknown): Props {
  return { ...copy(props), [key]: value };
}

// An app stack on the same docker host: reads its database from the platform
// stack and hands it to the container as secret environment. Deploy with the
// same backend and passphrase as the platform (StackReference decrypts its secrets).
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { appDatabase } from "../../consumer";

const config = new pulumi.Config();
const platform = new pulumi.StackReference(config.get("platformStack") ?? "organization/homelab-postgres/prod");
const db = appDatabase(platform, "langfuse");

const image = new docker.RemoteImage("langfuse", { name: "langfuse/langfuse:2.95.11", keepLocally: true });

export const container = new docker.Container(
  "langfuse",
  {
    name: "langfuse",
    image: image.imageId,
    envs: [
      // web traffic through pgBouncer; Prisma migrations need a direct session
      pulumi.interpolate`DATABASE_URL=${db.pooledUrl}`,
      pulumi.interpolate`DIRECT_URL=${db.url}`,
    ],
    // a stack-CA platform's URLs verify the server (sslmode=verify-full): the CA goes
    // where they say (sslrootcert); nothing is uploaded for a platform without it
    uploads: pulumi.all([db.caCertificate, db.caFile]).apply(([ca, file]) => (ca && file ? [{ file, content: ca }] : [])),
    // same host: join the platform's network; "postgres"/"pgbouncer" resolve there
    networksAdvanced: [{ name: db.network }],
    ports: [{ internal: 3000, external: 3000, ip: db.host }],
    restart: "unless-stopped",
    securityOpts: ["no-new-privileges:true"],
    memory: 1024,
  },
  { additionalSecretOutputs: ["envs"] },
).name;

// Thin entry point: read and validate config (all problems at once, before any
// resource exists), build the platform, export the outputs app stacks read (README "Outputs").
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig, runtimeIsConfigSecret } from "./components/config";
import { PostgresPlatform } from "./components/platform";

const config = loadStackConfig(pulumi.getStack(), pulumi.runtime.allConfig(), runtimeIsConfigSecret(pulumi.runtime));
const platform = new PostgresPlatform("homelab", { config });

export const host = platform.host;
export const port = platform.port;
export const network = platform.network;
export const poolerPort = platform.poolerPort;
export const databases = platform.databases;
export const adminUser = platform.admin.user;
export const adminPassword = platform.admin.password;
export const pgadminUrl = platform.pgadminUrl;
export const pgadminPassword = platform.pgadmin?.password;
export const backupBucket = platform.backupBucket;
export const scrapeTargets = platform.scrapeTargets;
export const prometheusScrapeConfig = platform.prometheusScrapeConfig;
export const ciTailnetAuthKey = platform.ciTailnetAuthKey;
export const standby = platform.standbyEndpoint;
export const caCertificate = platform.caCertificate;

// Rule 8: no credential in a container's configuration. A rule cannot tell a
// Pulumi secret from plaintext, so this refuses credentials where being secret
// would not help anyway: env, command, entrypoint and labels show in `docker
// inspect`; an uploaded credential file must not be world-readable.
import {
  stringListOption,
  asString,
  containsInlineCredential,
  credentialFilesFromEnv,
  envEntryProblem,
  items,
  parseFileMode,
  POLICY_NAMES,
  read,
  resourceRule,
  TYPES,
  UNKNOWN,
  uploadHasCredential,
} from "../lib";

export interface NoPasswordsConfig {
  allowEnvNames: string[];
}

export const noPasswordsInContainerConfigPolicy = resourceRule<NoPasswordsConfig>({
  name: POLICY_NAMES.noPasswordsInContainerConfig,
  description:
    "No credential in a container's env, command, entrypoint or labels (docker inspect shows them, and a policy cannot tell a Pulumi secret from plaintext); credential files uploaded into a container are not world-readable.",
  enforcementLevel: "mandatory",
  severity: "critical",
  remediationSteps:
    'Upload the credential as a file (uploads[] with content: pulumi.secret(...), permissions "0600"/"0640") and point the image at it (POSTGRES_PASSWORD_FILE, PGADMIN_DEFAULT_PASSWORD_FILE, a pgbackrest.conf, a pgpass file).',
  types: [TYPES.container],
  options: {
    allowEnvNames: stringListOption("Env variable names that look sensitive but are not (exact names)."),
  },
  defaults: { allowEnvNames: [] },
  check: (props, { config }, report) => {
    const envs = items(read(props, "envs")).filter((e): e is string => typeof e === "string"); // unknown ones: checked again on up
    for (const entry of envs) {
      const problem = envEntryProblem(entry, config.allowEnvNames);
      if (problem) report(problem);
    }
    const credentialFiles = credentialFilesFromEnv(envs);
    for (const field of ["command", "entrypoints"] as const) {
      items(read(props, field)).forEach((arg, i) => {
        if (typeof arg === "string" && containsInlineCredential(arg)) {
          report(`${field}[${i}] embeds a credential (visible in docker inspect and ps)`);
        }
      });
    }
    for (const l of items(read(props, "labels"))) {
      const value = read(l, "value");
      if (typeof value === "string" && containsInlineCredential(value)) {
        report(`label ${String(read(l, "label"))} embeds a credential`);
      }
    }
    for (const upload of items(read(props, "uploads"))) {
      if (upload === UNKNOWN) continue;
      const file = asString(read(upload, "file")) ?? "(unnamed)";
      const content = read(upload, "content");
      const b64 = read(upload, "contentBase64");
      // the provider uploads whichever of content / contentBase64 is non-empty and refuses
      // both at apply (kreuzwerker/terraform-provider-docker,
      // internal/provider/resource_docker_container_funcs.go, the upload loop); a preview
      // sees them before it does, so each is judged
      const texts = [typeof content === "string" ? content : "", typeof b64 === "string" ? Buffer.from(b64, "base64").toString("utf8") : ""];
      if (!credentialFiles.has(file) && !texts.some((text) => uploadHasCredential(file, text))) continue;
      const permissions = read(upload, "permissions");
      if (permissions === UNKNOWN) continue;
      const mode = parseFileMode(asString(permissions));
      if (mode === undefined) {
        report(`upload ${file} holds a credential and has no permissions set (docker's default 0644 is world-readable); use "0600" or "0640"`);
      } else if ((mode & 0o007) !== 0) {
        report(`upload ${file} holds a credential and is world-accessible (permissions ${asString(permissions)}); use "0600" or "0640"`);
      }
    }
  },
});

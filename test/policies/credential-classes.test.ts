// Rule 8's credential classes that used to pass: credentials inside URLs (an empty
// user, a password holding '/', any scheme, `password=` query parameters,
// sslpassword) and env names people abbreviate (*_PWD, *_PASS, *_SECRET, *_TOKEN,
// *_CREDENTIALS), each with look-alikes that are not credentials.
import { containsInlineCredential, isSensitiveName, POLICY_NAMES, TYPES } from "../../policies/rules";
import { resourcePolicy, runResourceRule } from "./helpers";
import { goodContainer } from "./fixtures";

const rule = resourcePolicy(POLICY_NAMES.noPasswordsInContainerConfig);
const envs = (...e: string[]) => runResourceRule(rule, TYPES.container, { ...goodContainer(), envs: e });
const PW = "Zq8x-kF3p-vN2m-hT7r";

describe("credentials inside URLs", () => {
  it.each([
    `postgresql://:${PW}@db:5432/app`, // empty user
    `postgres://app:${PW}/with/slashes@db/app`, // '/' in the password
    `postgres://app:pa/ss@db/app`,
    `redis://:${PW}@cache:6379/0`,
    `amqp://guest:${PW}@mq:5672/`,
    `mongodb+srv://app:${PW}@cluster.example.net/db`,
    `https://user:${PW}@registry.example.net/v2/`,
    `s3://AKIA:${PW}@bucket/key`,
    `smtp://mailer:p%40ss%3Aword@mail.example.net:587`,
    `postgresql://app@db/app?password=${PW}`,
    `postgresql://app@db/app?sslmode=require&password=${PW}`,
    `postgresql://app@db/app?sslpassword=${PW}&sslkey=/k`,
    `https://api.example.net/hook?token=${PW}`,
    `https://api.example.net/x?a=1&api_key=${PW}`,
    `https://api.example.net/x?access_token=${PW}`,
    `host=db user=app sslpassword=${PW}`,
    `jdbc:postgresql://db:5432/app?user=app&password=${PW}`,
    `POSTGRESQL://APP:${PW}@DB/APP`,
  ])("finds the credential in %s", (url) => {
    expect(containsInlineCredential(url)).toBe(true);
  });

  it.each([
    "postgresql://app@db:5432/app",
    "postgresql://app:@db:5432/app",
    "postgresql://db:5432/app?sslmode=verify-full",
    "https://example.net:8443/users/@me",
    "http://localhost:8080/@scope/package",
    "https://example.net/path?password=&user=x",
    "https://example.net/reset-password?user=x",
    "ssh://ops@homelab",
    "tcp://10.0.0.2:2376",
  ])("finds none in %s", (url) => {
    expect(containsInlineCredential(url)).toBe(false);
  });

  it("refuses such a URL in a container's env, without quoting it", async () => {
    const o = await envs(`REDIS_URL=redis://:${PW}@cache:6379/0`, `DSN=postgresql://app@db/app?password=${PW}`);
    expect(o.violations).toEqual([
      "env REDIS_URL embeds a credential in its value (a URL or conninfo with a password, or a key)",
      "env DSN embeds a credential in its value (a URL or conninfo with a password, or a key)",
    ]);
    for (const v of o.violations) expect(v).not.toContain(PW);
  });
});

describe("credentials in env names", () => {
  it.each(["DB_PWD", "MYSQL_ROOT_PWD", "SMTP_PASS", "REDIS_PASS", "DB_PW", "APP_SECRET", "JWT_SECRET", "GITHUB_TOKEN", "SLACK_BOT_TOKEN",
    "GITHUB_CREDENTIALS", "REGISTRY_CREDENTIAL", "BASIC_AUTH", "dbPwd", "smtpPass", "db-pwd"])("treats %s as a credential", async (name) => {
    expect(isSensitiveName(name)).toBe(true);
    expect((await envs(`${name}=${PW}`)).violations).toEqual([expect.stringMatching(/carries a credential/)]);
  });

  it.each(["PWD", "OLDPWD", "PASSAGE_COUNT", "COMPASS_MODE", "DB_PWD_FILE", "APP_SECRET_PATH", "GITHUB_TOKEN_FILE", "AUTH_METHOD", "PASSWORD_ENCRYPTION", "SECRETS_DIR", "TOKEN_TYPE"])(
    "does not treat %s as one",
    (name) => {
      expect(isSensitiveName(name)).toBe(false);
    },
  );
});

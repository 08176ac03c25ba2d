// TLS on: the rendered conf serves TLS with the given key pair, and the rendered
// hba refuses unencrypted TCP from anything but container-local loopback.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../../../components/config";
import { accessModel, renderAccessSql, renderConnectionUrl } from "../../../components/apps/access";
import { tlsParams } from "../../../components/apps/app-database";
import { authPsqlCommand, PGBOUNCER_AUTH_ROLE, renderAuthCreateScript, renderAuthRoleSql } from "../../../components/pooler";
import { carrierFiles, carrierHealthcheck, renderCarrierScript } from "../../../components/runtime";
import { KEY_ALGORITHM, postgresTlsFiles, RELOAD_SQL, serverCertificateNames } from "../../../components/tls";
import { applyAccessSql, chownTree, pgBin, PgInstance, requireBinary, run, runOk, ServerProcess, startPostgres, tempDir, waitFor, writeFile } from "../harness";
import { adminConsole, PGBOUNCER, PoolerConfig, runCommand, WrappedPooler } from "../pooler/fixture";

describe("TLS on PostgreSQL 15", () => {
  let pg: PgInstance;
  let tmp: string;

  beforeAll(async () => {
    const openssl = requireBinary("/usr/bin/openssl", "openssl");
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-tls-"));
    execFileSync(openssl, [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=postgres",
      "-keyout", path.join(tmp, "server.key"), "-out", path.join(tmp, "server.crt"),
    ], { stdio: "ignore" });
    const certText = fs.readFileSync(path.join(tmp, "server.crt"), "utf8");
    const keyText = fs.readFileSync(path.join(tmp, "server.key"), "utf8");
    pg = await startPostgres({
      extraFiles: { "tls/server.crt": certText, "tls/server.key": keyText },
      conf: { tls: { certFile: "tls/server.crt", keyFile: "tls/server.key" } },
    });
  });

  /**
   * A socket whose source address is 127.0.0.2: it stands in for "another host on
   * the network", which the container-local 127.0.0.1 line does not cover.
   */
  const fromElsewhere = (): net.Socket => {
    const sock = new net.Socket();
    const connect = sock.connect.bind(sock);
    const fromOtherAddress = (port: number, host: string) => connect({ port, host, localAddress: "127.0.0.2" });
    return Object.assign(sock, { connect: fromOtherAddress as unknown as net.Socket["connect"] });
  };

  afterAll(async () => {
    await pg?.destroy();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it("serves TLS with the rendered settings", async () => {
    const c = await pg.connect({ stream: fromElsewhere, ssl: { rejectUnauthorized: false } });
    const { rows } = await c.query("select ssl, version from pg_stat_ssl where pid = pg_backend_pid()");
    await c.end();
    expect(rows[0].ssl).toBe(true);
    expect(rows[0].version).toMatch(/^TLSv1\.[23]$/);
  });

  it("refuses an unencrypted connection from a non-loopback address", async () => {
    await expect(pg.connect({ stream: fromElsewhere, ssl: false })).rejects.toThrow(/no pg_hba.conf entry for host "127.0.0.2".*no encryption/);
  });

  it("still lets container-local loopback in without TLS (healthchecks)", async () => {
    const c = await pg.connect({ host: "127.0.0.1", ssl: false });
    await c.end();
  });
});

// ---------------------------------------------------------------- the stack CA
// postgres.tls.mode stack-ca on real servers: openssl plays @pulumi/tls, issuing a CA
// and a server certificate with the names serverCertificateNames gives the program's
// CertRequest (the key type is its KEY_ALGORITHM, P-256). The files reach Postgres and
// pgBouncer through the real carrier script with the modes the components give them;
// clients connect with the URLs renderConnectionUrl writes into the outputs, by psql
// (libpq's verify-full), and the renewal is delivered and reloaded the way `up` does.

const MAGICDNS = "db.tailnet-test.ts.net";
const NAMES = serverCertificateNames({ bindAddress: "127.0.0.1", device: MAGICDNS });

/** What openssl made: file paths in `dir`, and the PEMs. */
interface Issued { key: string; cert: string; keyPem: string; certPem: string }

async function openssl(args: string[], cwd: string): Promise<void> {
  await runOk(requireBinary("/usr/bin/openssl", "openssl"), args, { cwd });
}

async function makeCa(dir: string, name: string): Promise<Issued> {
  expect(KEY_ALGORITHM).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  await openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", `/CN=${name}`,
    "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    "-keyout", `${name}.key`, "-out", `${name}.crt`], dir);
  return read(dir, name);
}

/** A server certificate from `ca` for the program's names; `key` reuses a key, as a renewal does (the key resource stays). */
async function issue(dir: string, ca: Issued, name: string, serial: number, key?: string): Promise<Issued> {
  const san = [...NAMES.dnsNames.map((n) => `DNS:${n}`), ...NAMES.ipAddresses.map((ip) => `IP:${ip}`)].join(",");
  fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  if (key) {
    fs.copyFileSync(key, path.join(dir, `${name}.key`));
    chownTree(path.join(dir, `${name}.key`));
  }
  else await openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", `${name}.key`], dir);
  await openssl(["req", "-new", "-key", `${name}.key`, "-subj", `/CN=${NAMES.commonName}`, "-out", `${name}.csr`], dir);
  await openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", ca.cert, "-CAkey", ca.key, "-set_serial", String(serial), "-days", "2",
    "-extfile", `${name}.ext`, "-out", `${name}.crt`], dir);
  return read(dir, name);
}

function read(dir: string, name: string): Issued {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  return { key, cert, keyPem: fs.readFileSync(key, "utf8"), certPem: fs.readFileSync(cert, "utf8") };
}

/** What `up` does to deliver the pair: the carrier (real script, the component's files and modes) copies it into `runtime`. */
async function deliverPostgresTls(staging: string, runtime: string, pair: Issued): Promise<void> {
  const files = postgresTlsFiles(pair.certPem, pair.keyPem);
  const list = carrierFiles(files);
  for (const f of list) writeFile(path.join(staging, f.name), f.name === "server.key" ? pair.keyPem : pair.certPem, 0o400);
  const paths = { staging, runtime };
  const carrier = new ServerProcess("/bin/sh", ["-c", renderCarrierScript(list, paths)]);
  const test = carrierHealthcheck(list.map((f) => f.name), paths)[3];
  await waitFor("the TLS carrier's copies", async () => (await run("/bin/sh", ["-c", test])).code === 0, 10_000, carrier);
  await carrier.stop("SIGTERM");
}

/** The serial of the certificate a server presents (openssl s_client speaks the Postgres SSLRequest). */
async function servedSerial(port: number, caFile: string): Promise<string> {
  const r = await run("/bin/sh", ["-c",
    `openssl s_client -starttls postgres -connect 127.0.0.1:${port} -CAfile ${caFile} -verify_return_error </dev/null 2>/dev/null | openssl x509 -noout -serial`]);
  return r.stdout.trim();
}

describe("the stack CA: verify-full against PostgreSQL 15 and pgBouncer 1.18", () => {
  const cfg = parseConfig("dev", { apps: [{ name: "shop" }], pgbouncer: { enabled: true } });
  const model = accessModel(cfg.apps);
  const owner = model[0].roles[0].name;
  const passwords = { [owner]: `pw-${Math.random().toString(36).slice(2)}` };
  const AUTH = `auth-${Math.random().toString(36).slice(2)}`;
  const pooled: PoolerConfig = { databases: ["shop"], mode: "transaction", defaultPoolSize: 5, maxClientConn: 50 };
  let dir: string;
  let pg: PgInstance;
  let pooler: WrappedPooler;
  let ca: Issued;
  let wrongCa: Issued;
  let server: Issued;
  let staging: string;
  let runtime: string;

  beforeAll(async () => {
    requireBinary(PGBOUNCER, "pgbouncer");
    dir = tempDir("stack-ca");
    ca = await makeCa(dir, "ca");
    wrongCa = await makeCa(dir, "other-ca");
    server = await issue(dir, ca, "server", 1);
    for (const f of [ca.cert, wrongCa.cert]) chownTree(f);
    staging = path.join(dir, "staging");
    runtime = path.join(dir, "runtime");
    for (const d of [staging, runtime]) {
      fs.mkdirSync(d);
      chownTree(d);
    }
    await deliverPostgresTls(staging, runtime, server);
    pg = await startPostgres({ conf: { tls: { certFile: path.join(runtime, "server.crt"), keyFile: path.join(runtime, "server.key") } } });
    await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, AUTH));
    await applyAccessSql(pg, renderAccessSql(model, passwords));
    const r = await runCommand(pg, authPsqlCommand(renderAuthCreateScript("shop")));
    if (r.code !== 0) throw new Error(r.stderr);
    pooler = await WrappedPooler.start(pg, AUTH, pooled, { tls: { caCertificate: ca.certPem, certificate: server.certPem, privateKey: server.keyPem } });
  });

  afterAll(async () => {
    await pooler?.stop();
    await pg?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** psql with the URL the outputs carry (renderConnectionUrl, tlsParams), optionally another host name for the same address. */
  const psql = (port: number, caFile: string, opts: { hostName?: string; user?: string; database?: string; password?: string } = {}) => {
    const url = renderConnectionUrl({
      user: opts.user ?? owner, password: opts.password ?? passwords[owner], host: opts.hostName ?? "127.0.0.1", port, database: opts.database ?? "shop",
      ...tlsParams({ requireTls: true, verifyTls: { caFile } }),
    });
    // hostaddr: connect to loopback while libpq checks the certificate against the URL's host
    const conn = opts.hostName ? `${url}&hostaddr=127.0.0.1` : url;
    return run(pgBin("psql"), ["-X", "-Atc", "select current_user || ' ' || (select ssl from pg_stat_ssl where pid = pg_backend_pid())", conn], { env: { PGCONNECT_TIMEOUT: "10" } });
  };

  it("accepts a client with the CA, by the bind address and by the MagicDNS name", async () => {
    const byIp = await psql(pg.port, ca.cert);
    expect(byIp.stderr).toBe("");
    expect(byIp.stdout.trim()).toBe(`${owner} true`);
    expect((await psql(pg.port, ca.cert, { hostName: MAGICDNS })).stdout.trim()).toBe(`${owner} true`);
  });

  it("refuses a client that trusts another CA, and a host name the certificate does not name", async () => {
    const wrong = await psql(pg.port, wrongCa.cert);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/certificate verify failed/);
    const host = await psql(pg.port, ca.cert, { hostName: "elsewhere.tailnet-test.ts.net" });
    expect(host.code).not.toBe(0);
    expect(host.stderr).toMatch(/does not match host name "elsewhere\.tailnet-test\.ts\.net"/);
  });

  it("through pgBouncer: the client verifies pgBouncer, pgBouncer verifies Postgres (verify-full)", async () => {
    const through = await psql(pooler.port, ca.cert);
    expect(through.stderr).toBe("");
    // the server side of the pool is TLS too: the backend sees an SSL connection
    expect(through.stdout.trim()).toBe(`${owner} true`);
    expect(await pooler.ini(pooled)).toMatch(/^server_tls_sslmode = verify-full$/m);
    const wrong = await psql(pooler.port, wrongCa.cert);
    expect(wrong.stderr).toMatch(/certificate verify failed/);
  });

  it("pgBouncer refuses a Postgres its CA file does not vouch for", async () => {
    await pooler.deliver(pooled, { caCertificate: wrongCa.certPem, certificate: server.certPem, privateKey: server.keyPem });
    // the wrapper reloads on the ini's change (the stamp covers the CA); 1.18 keeps open
    // server connections, so drop them as their sessions end: the next ones verify anew
    await waitFor("pgBouncer to refuse Postgres", async () => {
      await adminConsole(pooler, "RECONNECT shop");
      return (await psql(pooler.port, ca.cert)).code !== 0;
    }, 15_000, pooler.wrapper);
    expect(pooler.wrapper?.output).toMatch(/certificate verify failed/);
    await pooler.deliver(pooled, { caCertificate: ca.certPem, certificate: server.certPem, privateKey: server.keyPem });
    await waitFor("pgBouncer to reach Postgres again", async () => (await psql(pooler.port, ca.cert)).code === 0, 15_000, pooler.wrapper);
  });

  it("a renewed certificate is served after a reload: Postgres and pgBouncer keep running", async () => {
    const renewed = await issue(dir, ca, "renewed", 2, server.key);
    const postmaster = pg.server.pid;
    const bouncer = pooler.pgbouncerPid();
    expect(await servedSerial(pg.port, ca.cert)).toBe("serial=01");
    await deliverPostgresTls(staging, runtime, renewed);
    // tlsReloadCommand's statement, as the superuser
    await pg.sql(RELOAD_SQL);
    await waitFor("Postgres to serve the renewed certificate", async () => (await servedSerial(pg.port, ca.cert)) === "serial=02", 10_000, pg.server);
    expect(pg.server.pid).toBe(postmaster);
    expect(pg.restarts).toBe(0);

    expect(await servedSerial(pooler.port, ca.cert)).toBe("serial=01");
    await pooler.deliver(pooled, { caCertificate: ca.certPem, certificate: renewed.certPem, privateKey: renewed.keyPem });
    await waitFor("pgBouncer to serve the renewed certificate", async () => (await servedSerial(pooler.port, ca.cert)) === "serial=02", 10_000, pooler.wrapper);
    expect(pooler.pgbouncerPid()).toBe(bouncer);
    expect((await psql(pooler.port, ca.cert)).stdout.trim()).toBe(`${owner} true`);
  });
});

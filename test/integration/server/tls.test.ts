// TLS on real servers, as postgres.tls.mode stack-ca runs it: openssl plays @pulumi/tls,
// issuing a CA and a server certificate with the names serverCertificateNames gives the
// program's CertRequest (the key type is its KEY_ALGORITHM, P-256). The pair reaches
// Postgres and pgBouncer through the real carrier script with the names and modes the
// components give them; Postgres runs the rendered conf (the same ssl_* lines in both
// modes: a provided pair is uploaded to the same paths) and hba: TLS served, unencrypted
// TCP refused from anything but container-local loopback. Clients connect with the
// URLs renderConnectionUrl writes into the outputs, by psql (libpq's verify-full), and a
// renewal is delivered and reloaded the way `up` does it.
import * as fs from "fs";
import * as net from "net";
import * as path from "path";
import { renderConnectionUrl, tlsParams } from "../../../components/apps/access";
import { PGBOUNCER_AUTH_ROLE, renderAuthRoleSql } from "../../../components/pooler/render";
import { carrierHealthcheck, renderCarrierScript } from "../../../components/runtime";
import { KEY_ALGORITHM, POSTGRES_TLS_MODES, RELOAD_SQL, serverCertificateNames } from "../../../components/tls/names";
import { chownTree, pgBin, PgInstance, requireBinary, run, runOk, ServerProcess, startPostgres, tempDir, waitFor, writeFile } from "../harness";
import { adminConsole, PGBOUNCER, PoolerConfig, WrappedPooler } from "../pooler/fixture";

const MAGICDNS = "db.tailnet-test.ts.net";
const NAMES = serverCertificateNames({ bindAddress: "127.0.0.1", device: MAGICDNS });

/** What openssl made: file paths in `dir`, and the PEMs. */
interface Issued { key: string; cert: string; keyPem: string; certPem: string }

/**
 * One shell run of openssl (a spawn is slow on a loaded machine): two CAs, the server
 * key, and two certificates for the program's names with serials 1 and 2 from the
 * same key, as a renewal issues them (LocallySignedCert is replaced, the PrivateKey stays).
 */
async function issueAll(dir: string): Promise<void> {
  expect(KEY_ALGORITHM).toEqual({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  const openssl = requireBinary("/usr/bin/openssl", "openssl");
  const san = [...NAMES.dnsNames.map((n) => `DNS:${n}`), ...NAMES.ipAddresses.map((ip) => `IP:${ip}`)].join(",");
  fs.writeFileSync(path.join(dir, "server.ext"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\n`);
  chownTree(path.join(dir, "server.ext"));
  const ca = (name: string) =>
    `${openssl} req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=${name} ` +
    `-addext basicConstraints=critical,CA:TRUE,pathlen:0 -addext keyUsage=critical,keyCertSign,cRLSign -keyout ${name}.key -out ${name}.crt`;
  const sign = (name: string, serial: number) =>
    `${openssl} x509 -req -in server.csr -CA ca.crt -CAkey ca.key -set_serial ${serial} -days 2 -extfile server.ext -out ${name}.crt && cp server.key ${name}.key`;
  await runOk("/bin/sh", ["-c", [
    "set -e", ca("ca"), ca("other-ca"),
    `${openssl} ecparam -name prime256v1 -genkey -noout -out server.key`,
    `${openssl} req -new -key server.key -subj /CN=${NAMES.commonName} -out server.csr`,
    sign("first", 1), sign("renewed", 2),
  ].join("\n")], { cwd: dir });
}

function read(dir: string, name: string): Issued {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.crt`);
  return { key, cert, keyPem: fs.readFileSync(key, "utf8"), certPem: fs.readFileSync(cert, "utf8") };
}

/** What `up` does to deliver the pair: the carrier (real script, the component's files and modes) copies it into `runtime`. */
async function deliverPostgresTls(staging: string, runtime: string, pair: Issued): Promise<void> {
  // postgres-files.ts postgresTlsFiles: these names and modes
  const list = Object.entries(POSTGRES_TLS_MODES).map(([name, mode]) => ({ name, mode }));
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

describe("TLS on PostgreSQL 15 and pgBouncer 1.18 with the stack CA", () => {
  // the client is pgBouncer's auth role (its password is in the auth file, so no lookup is
  // needed): TLS, not authentication, is under test here (test/integration/pooler has that)
  const owner = PGBOUNCER_AUTH_ROLE;
  const AUTH = `auth-${Math.random().toString(36).slice(2)}`;
  const passwords = { [owner]: AUTH };
  const pooled: PoolerConfig = { databases: ["postgres"], mode: "transaction", defaultPoolSize: 5, maxClientConn: 50 };
  let dir: string;
  let pg: PgInstance;
  let pooler: WrappedPooler;
  let ca: Issued;
  let wrongCa: Issued;
  let server: Issued;
  let renewed: Issued;
  let staging: string;
  let runtime: string;

  beforeAll(async () => {
    requireBinary(PGBOUNCER, "pgbouncer");
    dir = tempDir("stack-ca");
    await issueAll(dir);
    ca = read(dir, "ca");
    wrongCa = read(dir, "other-ca");
    server = read(dir, "first");
    renewed = read(dir, "renewed");
    staging = path.join(dir, "staging");
    runtime = path.join(dir, "runtime");
    for (const d of [staging, runtime]) {
      fs.mkdirSync(d);
      chownTree(d);
    }
    await deliverPostgresTls(staging, runtime, server);
    pg = await startPostgres({ conf: { tls: { certFile: path.join(runtime, "server.crt"), keyFile: path.join(runtime, "server.key") } } });
    await pg.sql(renderAuthRoleSql(PGBOUNCER_AUTH_ROLE, AUTH));
    pooler = await WrappedPooler.start(pg, AUTH, pooled, { tls: { caCertificate: ca.certPem, certificate: server.certPem, privateKey: server.keyPem } });
  });

  afterAll(async () => {
    await pooler?.stop();
    await pg?.destroy();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
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

  /** psql with the URL the outputs carry (renderConnectionUrl, tlsParams), optionally another host name for the same address. */
  const psql = (port: number, caFile: string, opts: { hostName?: string; user?: string; database?: string; password?: string } = {}) => {
    const url = renderConnectionUrl({
      user: opts.user ?? owner, password: opts.password ?? passwords[owner], host: opts.hostName ?? "127.0.0.1", port, database: opts.database ?? "postgres",
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

  it("a renewed certificate is served after a reload: Postgres and pgBouncer keep running", async () => {
    const postmaster = pg.server.pid;
    const bouncer = pooler.pgbouncerPid();
    expect(await servedSerial(pg.port, ca.cert)).toBe("serial=01");
    expect(await servedSerial(pooler.port, ca.cert)).toBe("serial=01");
    // both carriers replaced at once, as one `up` does; then tlsReloadCommand's statement
    await Promise.all([
      deliverPostgresTls(staging, runtime, renewed).then(() => pg.sql(RELOAD_SQL)),
      pooler.deliver(pooled, { caCertificate: ca.certPem, certificate: renewed.certPem, privateKey: renewed.keyPem }),
    ]);
    await waitFor("Postgres to serve the renewed certificate", async () => (await servedSerial(pg.port, ca.cert)) === "serial=02", 10_000, pg.server);
    // the wrapper polls the ini every 2 s
    await waitFor("pgBouncer to serve the renewed certificate", async () => (await servedSerial(pooler.port, ca.cert)) === "serial=02", 10_000, pooler.wrapper);
    expect(pg.server.pid).toBe(postmaster);
    expect(pg.restarts).toBe(0);
    expect(pooler.pgbouncerPid()).toBe(bouncer);
    expect((await psql(pooler.port, ca.cert)).stdout.trim()).toBe(`${owner} true`);
  });

  it("pgBouncer refuses a Postgres its CA file does not vouch for", async () => {
    const reloads = () => (pooler.wrapper?.output.match(/got SIGHUP/g) ?? []).length;
    const before = reloads();
    await pooler.deliver(pooled, { caCertificate: wrongCa.certPem, certificate: server.certPem, privateKey: server.keyPem });
    // the wrapper reloads on the ini's change (the stamp covers the CA); 1.18 keeps open
    // server connections, so drop them as their sessions end: the next ones verify anew
    await waitFor("pgBouncer to reload", async () => reloads() > before, 10_000, pooler.wrapper);
    await adminConsole(pooler, "RECONNECT postgres");
    // a client now waits while pgBouncer fails to open a verified server connection: give it 4 s
    const client = run(pgBin("psql"), ["-X", "-Atc", "select 1", renderConnectionUrl({
      user: owner, password: AUTH, host: "127.0.0.1", port: pooler.port, database: "postgres", ...tlsParams({ requireTls: true, verifyTls: { caFile: ca.cert } }),
    })], { timeoutMs: 4000 });
    await waitFor("pgBouncer to refuse Postgres' certificate", async () => /certificate verify failed/.test(pooler.wrapper?.output ?? ""), 10_000, pooler.wrapper);
    expect((await client).stdout).not.toMatch(/^1$/m);
    // last: pgBouncer now waits server_login_retry (15 s) before it tries Postgres again
  });
});

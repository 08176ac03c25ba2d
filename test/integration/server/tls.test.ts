// TLS on: the rendered conf serves TLS with the given key pair, and the rendered
// hba refuses unencrypted TCP from anything but container-local loopback.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PgInstance, requireBinary, startPostgres } from "../harness";

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

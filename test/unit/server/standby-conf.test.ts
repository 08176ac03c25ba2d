// The standby's renderers: pg_hba's replication line, primary_conninfo, the passfile.
import { renderPgHba } from "../../../components/server/pg-hba";
import { primaryConninfo, renderPgpass, standbySettings } from "../../../components/server/standby-conf";
import { renderPostgresEntrypoint } from "../../../components/server/entrypoint";

const conf = {
  primary: { host: "100.64.7.7", port: 5432 }, user: "hlpg_replicator", passfile: "/etc/postgresql/replication.pgpass",
  sslmode: "require" as const, slot: "hlpg_standby_prod", applicationName: "hlpg_standby",
};

describe("pg_hba replication line", () => {
  it("lets only the replication role stream, from the peer's one address, with TLS, before every other line", () => {
    const lines = renderPgHba({ tls: true, replication: { user: "hlpg_replicator", address: "100.64.8.8" } }).split("\n").filter((l) => l && !l.startsWith("#"));
    expect(lines[0]).toMatch(/^hostssl\s+replication\s+hlpg_replicator\s+100\.64\.8\.8\/32\s+scram-sha-256$/);
    expect(lines.filter((l) => /replication/.test(l))).toHaveLength(1);
    expect(renderPgHba({ tls: true })).not.toMatch(/replication/);
  });

  it("refuses plain text, a range, or an odd role name", () => {
    expect(() => renderPgHba({ tls: false, replication: { user: "hlpg_replicator", address: "100.64.8.8" } })).toThrow(/TLS/);
    for (const address of ["100.64.0.0/10", "0.0.0.0/0", "all", " 100.64.8.8", "::1"]) {
      expect(() => renderPgHba({ tls: true, replication: { user: "hlpg_replicator", address } })).toThrow(/one IPv4 address/);
    }
    expect(() => renderPgHba({ tls: true, replication: { user: "all x", address: "100.64.8.8" } })).toThrow(/replication role/);
  });
});

describe("standby settings", () => {
  it("renders primary_conninfo without a password, with the TLS mode as given", () => {
    expect(primaryConninfo(conf)).toBe(
      "host=100.64.7.7 port=5432 user=hlpg_replicator passfile=/etc/postgresql/replication.pgpass sslmode=require application_name=hlpg_standby connect_timeout=10 keepalives_idle=30",
    );
    expect(primaryConninfo({ ...conf, sslmode: "verify-full", sslrootcert: "/etc/postgresql/tls/ca.crt" })).toMatch(/sslmode=verify-full sslrootcert=\/etc\/postgresql\/tls\/ca.crt/);
    expect(() => primaryConninfo({ ...conf, sslmode: "verify-full" })).toThrow(/sslrootcert/);
    expect(() => primaryConninfo({ ...conf, sslmode: "prefer" as "require" })).toThrow(/plain text/);
    expect(() => primaryConninfo({ ...conf, primary: { host: "a b", port: 5432 } })).toThrow(/primary host/);
  });

  it("sets slot, hot standby, timeline and restore_command only when given", () => {
    const s = Object.fromEntries(standbySettings(conf));
    expect(s).toMatchObject({ primary_slot_name: "hlpg_standby_prod", hot_standby: "on", recovery_target_timeline: "latest" });
    expect(s.restore_command).toBeUndefined();
    expect(Object.fromEntries(standbySettings({ ...conf, restoreCommand: "pgbackrest archive-get %f \"%p\"" })).restore_command).toBe("pgbackrest archive-get %f \"%p\"");
    expect(() => standbySettings({ ...conf, slot: "bad-slot" })).toThrow(/slot/);
  });

  it("escapes : and \\ in the passfile (libpq's syntax)", () => {
    expect(renderPgpass([{ host: "100.64.7.7", port: 5432, database: "replication", user: "hlpg_replicator", password: "a:b\\c" }]))
      .toBe("100.64.7.7:5432:replication:hlpg_replicator:a\\:b\\\\c\n");
  });

  it("clones an empty volume in the entrypoint, and never with a primary's bootstrap", () => {
    const text = renderPostgresEntrypoint({ configFile: "/etc/postgresql/postgresql.conf", next: "docker-entrypoint.sh", standby: { from: "basebackup", conf } });
    expect(text).toMatch(/^ {2}standby_bootstrap$/m);
    expect(text).toMatch(/--slot=hlpg_standby_prod/);
    const backup = renderPostgresEntrypoint({ configFile: "/c", next: "n", standby: { from: "backup", pgbackrestConf: "/etc/pgbackrest/runtime/pgbackrest.conf", stanza: "prod" } });
    expect(backup).toMatch(/--stanza=prod --pg1-path="\$staging" --type=standby restore/);
    // restore's own restore_command names the staging directory and overrides postgresql.conf's: commented out
    // (test/integration/replica/standby-backup.test.ts shows archive-get failing without this)
    expect(backup).toMatch(/sed -i 's\/\^restore_command\[\[:space:\]\]\*=\/# removed by hlpg-entrypoint [^/']*&\/' "\$staging\/postgresql\.auto\.conf"/);
    expect(text).not.toMatch(/postgresql\.auto\.conf/);
    expect(() => renderPostgresEntrypoint({ configFile: "/c", next: "n", standby: { from: "basebackup", conf }, bootstrap: { pgbackrestConf: "/p", stanza: "prod", target: { type: "latest" } as never, privatePort: 5433 } })).toThrow(/cloned/);
  });
});

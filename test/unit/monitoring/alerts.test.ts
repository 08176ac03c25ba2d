// The shipped alert rules: `promtool check rules` and `promtool test rules` (Debian's
// prometheus package; .ci/run installs it), and the coverage the issue asks for:
// every alert has a test that fires it and one that keeps it quiet, and a runbook
// section in docs/monitoring.md. Fails, never skips, when promtool is missing.
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as yaml from "js-yaml";
import * as path from "path";

const ROOT = path.resolve(__dirname, "../../..");
const DIR = path.join(ROOT, "components/monitoring");
const PROMTOOL = process.env.PROMTOOL_BIN ?? "/usr/bin/promtool";

interface Rule { alert: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface AlertTest { alertname: string; exp_alerts: unknown[] }
const rules = (yaml.load(fs.readFileSync(path.join(DIR, "alerts.rules.yml"), "utf8")) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const tests = (yaml.load(fs.readFileSync(path.join(DIR, "alerts.test.yml"), "utf8")) as { tests: { alert_rule_test: AlertTest[] }[] }).tests.flatMap((t) => t.alert_rule_test);

function promtool(...args: string[]): string {
  if (!fs.existsSync(PROMTOOL)) throw new Error(`${PROMTOOL} not found: install Debian package 'prometheus' (.ci/run does: apt-get install prometheus)`);
  return execFileSync(PROMTOOL, args, { cwd: DIR, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

describe("alert rules", () => {
  it("pass promtool check rules", () => {
    expect(promtool("check", "rules", "alerts.rules.yml")).toMatch(new RegExp(`SUCCESS: ${rules.length} rules found`));
  });

  it("pass their promtool unit tests", () => {
    expect(promtool("test", "rules", "alerts.test.yml")).toMatch(/SUCCESS/);
  });

  it("the unit tests can fail: a rule with a changed threshold breaks them (the check is live)", () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "hlpg-rules-"));
    try {
      fs.writeFileSync(path.join(tmp, "alerts.rules.yml"), fs.readFileSync(path.join(DIR, "alerts.rules.yml"), "utf8").replace("> 0.8", "> 0.95"));
      fs.copyFileSync(path.join(DIR, "alerts.test.yml"), path.join(tmp, "alerts.test.yml"));
      let out = "";
      try {
        execFileSync(PROMTOOL, ["test", "rules", "alerts.test.yml"], { cwd: tmp, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string };
        out = `${err.stdout ?? ""}${err.stderr ?? ""}`;
      }
      expect(out).toMatch(/FAILED[\s\S]*HlpgConnectionsHigh/);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it("include every alert the issue lists", () => {
    expect(rules.map((r) => r.alert).sort()).toEqual([
      "HlpgBackupJobFailed", "HlpgBackupStale", "HlpgConnectionsHigh", "HlpgExporterDown", "HlpgLongRunningTransaction",
      "HlpgPgBouncerClientsWaiting", "HlpgPostgresDown", "HlpgReplicationLag", "HlpgReplicationSlotInactive", "HlpgReplicationSlotRetainingWal", "HlpgRestoreDrillFailed",
      "HlpgTransactionIdWraparound", "HlpgWalArchiveLagging", "HlpgWalArchivingFailing",
    ]);
  });

  it.each(rules.map((r) => [r.alert]))("%s has a firing and a quiet promtool test, a severity and a runbook section", (alert) => {
    const mine = tests.filter((t) => t.alertname === alert);
    expect(mine.some((t) => t.exp_alerts.length > 0)).toBe(true);
    expect(mine.some((t) => t.exp_alerts.length === 0)).toBe(true);
    const rule = rules.find((r) => r.alert === alert) as Rule;
    expect(["critical", "warning"]).toContain(rule.labels?.severity);
    const anchor = `#${alert.toLowerCase()}`;
    expect(rule.annotations?.runbook).toBe(`docs/monitoring.md${anchor}`);
    expect(fs.readFileSync(path.join(ROOT, "docs/monitoring.md"), "utf8")).toMatch(new RegExp(`^### ${alert}$`, "m"));
  });
});

describe("the Grafana dashboard", () => {
  const dash = JSON.parse(fs.readFileSync(path.join(DIR, "dashboard.json"), "utf8")) as {
    uid: string; panels: { id: number; title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
    templating: { list: { name: string }[] };
  };

  it("has a panel for each thing the issue names, every query scoped to the chosen stack", () => {
    const titles = dash.panels.map((p) => p.title).join("\n");
    for (const t of [/Connections per app/, /pgBouncer pool use/, /clients waiting/, /Transactions per second/, /Database sizes/, /Cache hit ratio/, /WAL/, /Backup jobs/]) {
      expect(titles).toMatch(t);
    }
    expect(dash.templating.list.map((v) => v.name)).toEqual(["datasource", "stack"]);
    for (const p of dash.panels) {
      expect(p.datasource.uid).toBe("${datasource}");
      for (const t of p.targets) expect(t.expr).toContain('hlpg_stack="$stack"');
    }
    expect(new Set(dash.panels.map((p) => p.id)).size).toBe(dash.panels.length);
  });
});

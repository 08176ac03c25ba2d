// The settings catalogs say what real servers say: each committed catalog equals
// the pg_settings of its major (15 from Debian, 16 and 17 from npm), and for a
// corpus of values our verdict (settingValueProblem) equals the server's own
// (ALTER SYSTEM validates a value for every context without applying it).
import { CATALOG_MAJORS, settingValueProblem } from "../../../components/config/pg-settings";
import { PG_CATALOGS } from "../../../components/config/pg-settings-catalogs";
import { startPostgres } from "../harness";
import { dumpSettings } from "./pg-settings-dump";

const CORPUS: [string, string][] = [
  ["work_mem", "64MB"], ["work_mem", "64XB"], ["work_mem", "63kB"], ["work_mem", "64kB"], ["work_mem", "1.5MB"], ["work_mem", "0x100"],
  ["work_mem", "lots"], ["work_mem", "4 MB"], ["work_mem", "4mb"], ["work_mem", "2TB"], ["work_mem", "-1"],
  ["shared_buffers", "128kB"], ["shared_buffers", "120kB"], ["shared_buffers", "1GB"], ["shared_buffers", "16"],
  ["max_wal_size", "1kB"], ["max_wal_size", "4GB"], ["max_wal_size", "2"],
  ["statement_timeout", "30s"], ["statement_timeout", "1min"], ["statement_timeout", "1.5s"], ["statement_timeout", "30 parsecs"],
  ["statement_timeout", "1d"], ["statement_timeout", "500us"], ["checkpoint_timeout", "10s"], ["checkpoint_timeout", "30s"],
  ["checkpoint_timeout", "2h"], ["log_connections", "yes"], ["log_connections", "of"], ["log_connections", "o"],
  ["log_connections", "maybe"], ["log_connections", "TRUE"], ["log_connections", "1"], ["log_connections", "t"],
  ["log_min_messages", "WARNING"], ["log_min_messages", "loud"], ["random_page_cost", "1.1"], ["random_page_cost", "-1"],
  ["random_page_cost", "1e3"], ["vacuum_cost_delay", "2ms"], ["vacuum_cost_delay", "101"], ["vacuum_cost_delay", "0.5"],
  ["pg_stat_statements.track", "top"], ["pg_stat_statements.track", "some"], ["max_connections", "0"], ["max_connections", "200"],
  ["effective_io_concurrency", "200"], ["default_statistics_target", "10001"], ["log_temp_files", "-1"], ["log_temp_files", "10MB"],
];

describe.each([15, 16, 17] as const)("PostgreSQL %i", (major) => {
  it("has the committed catalog's parameters, types, units, ranges and enum values", async () => {
    const live = await dumpSettings(major);
    expect(live.settings).toEqual(PG_CATALOGS[major].settings);
  });

  it("accepts and refuses exactly the values the server does", async () => {
    const pg = await startPostgres({ major });
    const c = await pg.connect();
    try {
      const disagreements: string[] = [];
      for (const [name, value] of CORPUS) {
        const spec = PG_CATALOGS[major].settings[name];
        expect(spec).toBeDefined();
        let server = true;
        try {
          await c.query(`ALTER SYSTEM SET ${name} = '${value.replace(/'/g, "''")}'`);
          await c.query(`ALTER SYSTEM RESET ${name}`);
        } catch {
          server = false;
        }
        const ours = settingValueProblem(spec, value) === undefined;
        if (ours !== server) disagreements.push(`${name} = ${value}: server ${server ? "accepts" : "refuses"}, we ${ours ? "accept" : "refuse"}`);
      }
      expect(disagreements).toEqual([]);
    } finally {
      await c.end();
      await pg.destroy();
    }
  });
});

it("covers every major the config supports", () => {
  expect([...CATALOG_MAJORS]).toEqual([15, 16, 17]);
});

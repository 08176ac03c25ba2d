// Reads a real server's pg_settings into the catalog format of
// components/config/pg-settings.ts. Used by `npm run catalog` (which writes the
// committed catalogs) and by the integration test that checks them against real
// servers, so a catalog can only say what a server said.
import type { PgCatalog, PgSettingSpec } from "../../../components/config/pg-settings";
import { PgMajor, startPostgres } from "../harness";

interface Row {
  name: string;
  vartype: PgSettingSpec["type"];
  unit: string | null;
  min_val: string | null;
  max_val: string | null;
  enumvals: string[] | null;
  context: string;
}

/** Starts `major` with the program's rendered postgresql.conf (so preloaded libraries' settings appear) and dumps pg_settings. */
export async function dumpSettings(major: PgMajor): Promise<PgCatalog> {
  const pg = await startPostgres({ major });
  try {
    const c = await pg.connect();
    try {
      const r = await c.query<Row>(
        "SELECT name, vartype, unit, min_val, max_val, enumvals, context FROM pg_catalog.pg_settings ORDER BY name",
      );
      const settings: PgCatalog["settings"] = {};
      for (const row of r.rows) {
        const spec: PgSettingSpec = { type: row.vartype, context: row.context as PgSettingSpec["context"] };
        if (row.unit) spec.unit = row.unit;
        if (row.vartype === "integer" || row.vartype === "real") {
          spec.min = Number(row.min_val);
          spec.max = Number(row.max_val);
        }
        if (row.enumvals) spec.values = row.enumvals;
        settings[row.name] = spec;
      }
      // List-valued string parameters (search_path, DateStyle, …) take `SET x = 'a', 'b'`;
      // the others refuse a second argument before anything else is checked
      // (guc_funcs.c flatten_set_variable_args), so ALTER SYSTEM tells them apart.
      for (const [name, spec] of Object.entries(settings)) {
        if (spec.type !== "string" || spec.context === "internal") continue;
        const ident = name.split(".").map((p) => `"${p}"`).join(".");
        try {
          await c.query(`ALTER SYSTEM SET ${ident} = 'x', 'y'`);
          spec.list = true;
        } catch (e) {
          if (!/takes only one argument|cannot be changed/.test(String(e))) spec.list = true;
        }
        await c.query(`ALTER SYSTEM RESET ${ident}`).catch(() => undefined);
      }
      const version = (await c.query<{ server_version: string }>("SHOW server_version")).rows[0].server_version;
      return { major, version, settings };
    } finally {
      await c.end();
    }
  } finally {
    await pg.destroy();
  }
}

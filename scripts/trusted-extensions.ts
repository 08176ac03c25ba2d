// `npm run catalog:extensions`: regenerates components/config/trusted-extensions.json
// from real servers (15 from Debian's postgresql-15, 16 and 17 from the pg16/pg17 npm
// packages): per major, the extensions a non-superuser may create (postgres.external).
import * as fs from "fs";
import * as path from "path";
import { CATALOG_MAJORS } from "../components/config/pg-settings";
import { startPostgres } from "../test/integration/harness";
import { dumpTrustedExtensions } from "../test/integration/external/trusted-dump";

async function main(): Promise<void> {
  const out: Record<string, string[]> = {};
  for (const major of CATALOG_MAJORS) {
    const pg = await startPostgres({ major });
    try {
      out[major] = await dumpTrustedExtensions(pg);
    } finally {
      await pg.destroy();
    }
    console.log(`PostgreSQL ${major}: ${out[major].length} trusted extensions`);
  }
  const file = path.join(__dirname, "..", "components/config/trusted-extensions.json");
  fs.writeFileSync(file, JSON.stringify(out, null, 1) + "\n");
  console.log(file);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

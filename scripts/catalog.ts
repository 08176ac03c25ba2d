// `npm run catalog`: regenerates components/config/pg-settings/pg<major>.json from
// real servers (15 from Debian's postgresql-15, 16 and 17 from the pg16/pg17 npm
// packages), each started with the program's rendered postgresql.conf.
import * as fs from "fs";
import * as path from "path";
import { CATALOG_MAJORS, catalogFile } from "../components/config/pg-settings";
import { dumpSettings } from "../test/integration/config/pg-settings-dump";

async function main(): Promise<void> {
  for (const major of CATALOG_MAJORS) {
    const catalog = await dumpSettings(major);
    const file = path.join(__dirname, "..", catalogFile(major));
    fs.writeFileSync(file, JSON.stringify(catalog) + "\n");
    console.log(`${file}: PostgreSQL ${catalog.version}, ${Object.keys(catalog.settings).length} settings`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

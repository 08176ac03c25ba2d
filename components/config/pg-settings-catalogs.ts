// The committed catalogs, one per major (`npm run catalog` regenerates them; an
// integration test compares them with real servers).
import type { CatalogMajor, PgCatalog } from "./pg-settings";
import pg15 from "./pg-settings/pg15.json";
import pg16 from "./pg-settings/pg16.json";
import pg17 from "./pg-settings/pg17.json";

export const PG_CATALOGS: Record<CatalogMajor, PgCatalog> = { 15: pg15 as PgCatalog, 16: pg16 as PgCatalog, 17: pg17 as PgCatalog };

/** Every enum value any catalog lists for `name` (builds differ in compiled-in options). */
export function enumValuesAcrossBuilds(name: string): string[] {
  return Object.values(PG_CATALOGS).flatMap((c) => c.settings[name]?.values ?? []);
}

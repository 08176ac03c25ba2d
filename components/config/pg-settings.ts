// postgres.settings values, checked before anything is touched: each key against
// the catalog of its major (generated from a real server's pg_settings by
// `npm run catalog`), each value by PostgreSQL's own parsing rules for its type,
// unit, range and enum values (guc.c: parse_bool, parse_int, parse_real, units).

/** One parameter as pg_settings describes it. */
export interface PgSettingSpec {
  type: "bool" | "integer" | "real" | "string" | "enum";
  /** Base unit of integer/real parameters: `kB`, `8kB`, `MB`, `B`, `ms`, `s`, `min`, `us`. */
  unit?: string;
  min?: number;
  max?: number;
  /** Allowed values of an enum (pg_settings lists the documented ones). */
  values?: string[];
  /** A list-valued string (search_path, DateStyle): ALTER SYSTEM takes its elements as separate literals. */
  list?: boolean;
  /** When a change takes effect: `postmaster` needs a restart, `internal` cannot be set. */
  context: "internal" | "postmaster" | "sighup" | "superuser-backend" | "backend" | "superuser" | "user";
}

export interface PgCatalog {
  major: number;
  /** server_version of the server the catalog was read from. */
  version: string;
  settings: Record<string, PgSettingSpec>;
}

/** Majors a catalog is committed for. */
export const CATALOG_MAJORS = [15, 16, 17] as const;
export type CatalogMajor = (typeof CATALOG_MAJORS)[number];

export function catalogFile(major: CatalogMajor): string {
  return `components/config/pg-settings/pg${major}.json`;
}

const MEMORY_UNITS: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** Bytes or milliseconds of one base unit, and which table its suffixes come from. */
function baseUnit(unit: string | undefined): { table: Record<string, number>; size: number } | undefined {
  if (!unit) return undefined;
  const mem = /^(\d*)(B|kB|MB|GB|TB)$/.exec(unit);
  if (mem) return { table: MEMORY_UNITS, size: (mem[1] ? Number(mem[1]) : 1) * MEMORY_UNITS[mem[2]] };
  if (unit in TIME_UNITS) return { table: TIME_UNITS, size: TIME_UNITS[unit] };
  return undefined;
}

const BOOL_WORDS = ["true", "false", "yes", "no", "on", "off", "1", "0"];

/** parse_bool: the words above, or an unambiguous prefix (`t`, `ye`, `of`), case-insensitive. */
function parsesAsBool(text: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === "") return false;
  if (BOOL_WORDS.includes(t)) return true;
  // "o" is ambiguous between on and off; every other prefix of the long words is fine
  return ["true", "false", "yes", "no", "on", "off"].some((w) => w.startsWith(t) && t.length >= (w.startsWith("o") ? 2 : 1));
}

/** A number with an optional unit suffix, in the parameter's base unit; or a message. */
function numeric(text: string, spec: PgSettingSpec, integer: boolean): number | string {
  const m = /^\s*([-+]?(?:0x[0-9a-f]+|\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+(?:e[-+]?\d+)?))\s*([A-Za-z]*)\s*$/i.exec(text);
  if (!m) return `${JSON.stringify(text)} is not a number${spec.unit ? " with an optional unit" : ""}`;
  let n = /^[-+]?0x/i.test(m[1]) ? parseInt(m[1], 16) : Number(m[1]);
  if (integer && !/^[-+]?0x/i.test(m[1]) && !/^[-+]?\d+$/.test(m[1]) && m[2] === "") return `${JSON.stringify(text)} is not an integer`;
  if (m[2] !== "") {
    const base = baseUnit(spec.unit);
    if (!base) return `${JSON.stringify(text)}: this parameter takes no unit`;
    const factor = base.table[m[2]];
    if (factor === undefined) return `${JSON.stringify(text)}: unit must be one of ${Object.keys(base.table).join(", ")}`;
    n = (n * factor) / base.size;
  }
  return integer ? Math.round(n) : n;
}

function describeRange(spec: PgSettingSpec): string {
  const u = spec.unit ?? "";
  return `${spec.min}${u}..${spec.max}${u}`;
}

/** Why `value` is not acceptable for parameter `spec`, or undefined. */
export function settingValueProblem(spec: PgSettingSpec, value: string | number | boolean, extraEnumValues?: string[]): string | undefined {
  const text = String(value);
  switch (spec.type) {
    case "bool":
      return typeof value === "boolean" || parsesAsBool(text) ? undefined : `expected on/off (true/false, yes/no, 1/0), got ${JSON.stringify(text)}`;
    case "integer":
    case "real": {
      if (typeof value === "boolean") return `expected a number, got ${text}`;
      const n = numeric(text, spec, spec.type === "integer");
      if (typeof n === "string") return n;
      if (spec.min !== undefined && spec.max !== undefined && (n < spec.min || n > spec.max)) {
        return `${JSON.stringify(text)} is outside ${describeRange(spec)}`;
      }
      return undefined;
    }
    case "enum": {
      const vals = [...(spec.values ?? []), ...(extraEnumValues ?? [])];
      return vals.some((v) => v.toLowerCase() === text.trim().toLowerCase()) ? undefined : `must be one of ${vals.join(", ")}, got ${JSON.stringify(text)}`;
    }
    case "string":
      return undefined;
  }
}

/** A parameter's spec by name; names are case-insensitive (`datestyle` is `DateStyle`). */
export function specOf(catalog: PgCatalog, name: string): PgSettingSpec | undefined {
  const exact = catalog.settings[name];
  if (exact) return exact;
  const lower = name.toLowerCase();
  const key = Object.keys(catalog.settings).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : catalog.settings[key];
}

/**
 * Why a postgres.settings entry is not acceptable on this major, or undefined.
 * Unknown names get a "did you mean". `buildEnumValues` are enum values other
 * builds of PostgreSQL offer for the same parameter (the catalogs come from one
 * build each; e.g. wal_compression's lz4/zstd depend on build options): they are
 * accepted here and left to the server, which refuses them before they apply.
 */
export function settingProblem(
  catalog: PgCatalog,
  name: string,
  value: string | number | boolean,
  suggestFn: (w: string, c: Iterable<string>) => string,
  buildEnumValues: string[] = [],
): string | undefined {
  const spec = specOf(catalog, name);
  if (spec === undefined) {
    const prefix = name.includes(".") ? name.slice(0, name.indexOf(".") + 1) : undefined;
    const known = Object.keys(catalog.settings);
    // a dotted name is a custom placeholder PostgreSQL accepts, unless its prefix is a module we know all names of
    if (prefix && !known.some((k) => k.startsWith(prefix))) return undefined;
    return `unknown parameter for PostgreSQL ${catalog.major}${suggestFn(name, known)}`;
  }
  if (spec.context === "internal") return "is read-only (fixed when PostgreSQL was built or the cluster was created)";
  const p = settingValueProblem(spec, value, buildEnumValues);
  return p ? `${p} (${spec.type}${spec.unit ? `, unit ${spec.unit}` : ""})` : undefined;
}

// Published pgBouncer vulnerabilities, as data, and which of them a given image
// and rendered pgbouncer.ini are exposed to. The PgBouncer component warns at
// preview/up about every one that applies (docs/pooling.md, "Security: pgBouncer
// release"). Sources: pgBouncer's changelog (NEWS.md, pgbouncer.org/changelog) and
// the CVE records; the version ranges are theirs, not guessed.
import type { PgBouncerVersion } from "./render";

type Triple = [number, number, number];

export interface PgBouncerAdvisory {
  id: string;
  /** First affected release (0.0.0: "before <fixed>", no lower bound published). */
  introduced: Triple;
  /** First release with the fix. */
  fixed: Triple;
  summary: string;
  /**
   * Whether the flaw can be reached with this pgbouncer.ini. Several flaws need a
   * setting the program never renders; those are not reported.
   */
  reachable: (ini: IniSettings) => boolean;
}

/** The [pgbouncer] section of an ini as key → value (last one wins, keys lower-cased). */
export type IniSettings = ReadonlyMap<string, string>;

export function parseIniSettings(ini: string): IniSettings {
  const out = new Map<string, string>();
  let section = "";
  for (const raw of ini.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1].trim().toLowerCase();
      continue;
    }
    const eq = line.indexOf("=");
    if (section !== "pgbouncer" || eq < 0) continue;
    out.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return out;
}

const list = (ini: IniSettings, key: string): string[] =>
  (ini.get(key) ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
const scram = (ini: IniSettings) => ini.get("auth_type") === "scram-sha-256";

export const PGBOUNCER_ADVISORIES: readonly PgBouncerAdvisory[] = [
  {
    id: "CVE-2026-107350",
    introduced: [1, 17, 0],
    fixed: [1, 26, 1],
    summary:
      "a client knowing the password of a user in auth_file can log in as any other SCRAM user (a second StartupMessage during SCRAM auth to a non-existent database)",
    // SCRAM for both users and at least one auth_file user to start from: here, the
    // auth role and (with monitoring) the stats user
    reachable: (ini) => scram(ini) && (ini.get("auth_file") ?? "") !== "",
  },
  {
    id: "CVE-2026-107349",
    introduced: [1, 20, 0],
    fixed: [1, 26, 1],
    summary: "an unauthenticated client makes pgBouncer spin on a CPU core (startup options with an empty option name, e.g. -c=)",
    // only when ignore_startup_parameters is non-empty and lacks `options`
    reachable: (ini) => {
      const ignored = list(ini, "ignore_startup_parameters");
      return ignored.length > 0 && !ignored.includes("options");
    },
  },
  {
    id: "CVE-2026-107348",
    introduced: [1, 21, 0],
    fixed: [1, 26, 1],
    summary: "a packet length above 2^31 makes pgBouncer loop forever (integer overflow in buffer growth)",
    // only with max_packet_size >= 2147483649; the default 2147483647 is not affected
    reachable: (ini) => Number(ini.get("max_packet_size") ?? "2147483647") >= 2147483649,
  },
  {
    id: "CVE-2026-6664",
    introduced: [0, 0, 0],
    fixed: [1, 25, 2],
    summary: "an unauthenticated client crashes pgBouncer with a malformed SCRAM packet (integer overflow)",
    reachable: scram,
  },
  {
    id: "CVE-2026-6665",
    introduced: [0, 0, 0],
    fixed: [1, 25, 2],
    summary: "a malicious backend overflows pgBouncer's stack with a long SCRAM nonce",
    reachable: () => true,
  },
  {
    id: "CVE-2026-6666",
    introduced: [0, 0, 0],
    fixed: [1, 25, 2],
    summary: "a backend error without SQLSTATE crashes pgBouncer (null pointer)",
    reachable: () => true,
  },
  {
    id: "CVE-2026-6667",
    introduced: [0, 0, 0],
    fixed: [1, 25, 2],
    summary: "any console user (stats_users too) may run KILL_CLIENT",
    reachable: (ini) => list(ini, "admin_users").length + list(ini, "stats_users").length > 0,
  },
  {
    id: "CVE-2025-12819",
    introduced: [0, 0, 0],
    fixed: [1, 25, 1],
    summary: "arbitrary SQL during authentication through a search_path startup parameter",
    // needs track_extra_parameters with search_path and auth_user
    reachable: (ini) => list(ini, "track_extra_parameters").includes("search_path") && (ini.get("auth_user") ?? "") !== "",
  },
];

function cmp(v: PgBouncerVersion, t: Triple): number {
  return v.major - t[0] || v.minor - t[1] || v.patch - t[2];
}

/** The advisories whose version range contains `version`. */
export function advisoriesFor(version: PgBouncerVersion): PgBouncerAdvisory[] {
  return PGBOUNCER_ADVISORIES.filter((a) => cmp(version, a.introduced) >= 0 && cmp(version, a.fixed) < 0);
}

const show = (t: Triple) => t.join(".");

/**
 * The warnings `pulumi preview`/`up` print for this image (named for the message: the
 * built image with its package version) and rendered ini: one per advisory that affects
 * the version and is reachable with the ini. Empty: nothing known applies.
 */
export function pgbouncerAdvisoryWarnings(image: string, version: PgBouncerVersion, ini: string): string[] {
  const where = "see docs/pooling.md, Security: pgBouncer release";
  const settings = parseIniSettings(ini);
  const v = `${version.major}.${version.minor}.${version.patch}`;
  return advisoriesFor(version)
    .filter((a) => a.reachable(settings))
    .map((a) => `the pgBouncer image ${JSON.stringify(image)} is pgBouncer ${v}, affected by ${a.id}: ${a.summary}; fixed in ${show(a.fixed)} (${where})`);
}

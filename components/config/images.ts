// What the stack's own images are built from: a pinned Debian base per suite, and the
// exact Debian package versions each image installs. One table, read by the config
// rules (which majors exist), the image components (build args and tags), the pooler
// (which pgBouncer release it renders for and warns about) and the engine tests (the
// same build args against a real dockerd).
//
// Versions are exact Debian versions (`17.12-0+deb13u1`), not globs: a build fails,
// rather than drifts, once the mirror has moved on; then update this table. The tests
// build every image from it, so a version the mirror no longer has is a red CI run.
import { parseImageRef } from "../lib/image-ref";

/** Debian suites the images are built on. */
export const DEBIAN_SUITES = ["bookworm", "trixie"] as const;
export type DebianSuite = (typeof DEBIAN_SUITES)[number];

/** Base image per suite when `images.<suite>` is not set: the official image's slim tag (prod must pin a digest). */
export const DEFAULT_BASE_IMAGES: Readonly<Record<DebianSuite, string>> = {
  bookworm: "debian:bookworm-slim",
  trixie: "debian:trixie-slim",
};

/** The Postgres image's packages for one major. */
export interface PostgresPackages {
  suite: DebianSuite;
  postgresql: string;
  /** Absent where the suite has no pgvector package: the `vector` extension is refused there. */
  pgvector?: string;
  pgaudit: string;
  pgbackrest: string;
}

/**
 * Majors the stack builds, each from Debian's own packages in one suite. trixie
 * (Debian 13) has PostgreSQL 17 with pgvector 0.8.0; bookworm (Debian 12) has 15 and no
 * pgvector. 16 is in no Debian suite: bring an image (`postgres.customImage`).
 * pgBackRest 2.45 (bookworm) backs up 15 only (its PG_VERSION_MAX is 15); 2.55.1 up to 18.
 */
export const POSTGRES_PACKAGES: Readonly<Record<number, PostgresPackages>> = {
  15: { suite: "bookworm", postgresql: "15.18-0+deb12u1", pgaudit: "1.7.0-2", pgbackrest: "2.45-1" },
  17: { suite: "trixie", postgresql: "17.12-0+deb13u1", pgvector: "0.8.0-1", pgaudit: "17.1-1", pgbackrest: "2.55.1-1" },
};

/** The major a new stack gets: Debian stable's (trixie), with pgvector; supported until November 2029. */
export const DEFAULT_MAJOR = 17;

/**
 * pgBouncer: 1.26.1 fixes CVE-2026-107348/107349/107350, which trixie's 1.24.1-1+deb13u2
 * does not carry (its changelog lists CVE-2026-6664…6667 and CVE-2025-12819 only).
 * Debian's 1.26.1 package is in forky (testing); its dependencies are satisfied by
 * trixie, so the image is trixie with that one package from forky (apt pinning keeps
 * everything else on trixie).
 */
export const PGBOUNCER_PACKAGE = { suite: "trixie", from: "forky", version: "1.26.1-1", release: [1, 26, 1] } as const satisfies {
  suite: DebianSuite; from: string; version: string; release: readonly [number, number, number];
};

/**
 * The exporters: Debian 12's prometheus-postgres-exporter 0.11.1 and the Python
 * prometheus-pgbouncer-exporter 1.7, the versions the monitoring integration tests,
 * alert rules and dashboard are written against (trixie moved to other exporters whose
 * metric names differ).
 */
export const EXPORTER_PACKAGES = { suite: "bookworm", postgresExporter: "0.11.1-3+b5", pgbouncerExporter: "1.7-2.1" } as const satisfies {
  suite: DebianSuite; postgresExporter: string; pgbouncerExporter: string;
};

/** Majors the stack can build. */
export function buildableMajors(): number[] {
  return Object.keys(POSTGRES_PACKAGES).map(Number).sort((a, b) => a - b);
}

/** The suite a Debian base reference names in its tag (`debian:trixie-slim@sha256:…` → trixie), if any. */
export function suiteOfBaseImage(ref: string): DebianSuite | undefined {
  const tag = parseImageRef(ref)?.tag;
  if (tag === undefined) return undefined;
  return DEBIAN_SUITES.find((s) => tag === s || tag.startsWith(`${s}-`));
}

/** The Postgres image's build arguments for a major (docker/postgres/Dockerfile). */
export function postgresBuildArgs(major: number, baseImage: string): Record<string, string> {
  const p = POSTGRES_PACKAGES[major];
  if (!p) throw new Error(`PostgreSQL ${major} is not built by this stack (${buildableMajors().join(", ")})`);
  return {
    BASE_IMAGE: baseImage,
    PG_MAJOR: String(major),
    PG_VERSION: p.postgresql,
    // no package: the Dockerfile installs none (an empty version means "skip")
    PGVECTOR_VERSION: p.pgvector ?? "",
    PGAUDIT_VERSION: p.pgaudit,
    PGBACKREST_VERSION: p.pgbackrest,
  };
}

/** The pgBouncer image's build arguments (docker/pgbouncer/Dockerfile). */
export function pgbouncerBuildArgs(baseImage: string): Record<string, string> {
  return { BASE_IMAGE: baseImage, BASE_SUITE: PGBOUNCER_PACKAGE.suite, PGBOUNCER_SUITE: PGBOUNCER_PACKAGE.from, PGBOUNCER_VERSION: PGBOUNCER_PACKAGE.version };
}

/** The exporters image's build arguments (docker/exporters/Dockerfile). */
export function exporterBuildArgs(baseImage: string): Record<string, string> {
  return { BASE_IMAGE: baseImage, POSTGRES_EXPORTER_VERSION: EXPORTER_PACKAGES.postgresExporter, PGBOUNCER_EXPORTER_VERSION: EXPORTER_PACKAGES.pgbouncerExporter };
}

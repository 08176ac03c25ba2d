// The image check: a one-shot job (one-shot.ts) that runs the Postgres image once before
// the server's container is created, and fails `pulumi up` at once, with every problem
// listed, when the image does not keep the contract the program relies on
// (docs/images.md, The image contract). Without it a wrong image (another major, no
// gosu, an image for another architecture) made the server's container restart until
// its wait timed out, with no reason shown.
import { shellQuote } from "../lib/quote";

export interface ImageCheckInput {
  /** postgres.majorVersion. */
  majorVersion: number;
  /** Backups are on: pgBackRest and the sidecar's tools are needed. */
  backup: boolean;
  /** postgres.audit.enabled: pgAudit is needed. */
  audit: boolean;
  /** An app asks for `vector`: pgvector is needed. */
  vector: boolean;
}

/** `/bin/sh` script: one line per problem, `image check: ok` and exit 0 when there is none. */
export function renderImageCheck(i: ImageCheckInput): string {
  if (!Number.isInteger(i.majorVersion) || i.majorVersion < 10 || i.majorVersion > 99) throw new Error(`invalid major ${i.majorVersion}`);
  const m = String(i.majorVersion);
  const bin = `/usr/lib/postgresql/${m}/bin`;
  const tools = ["pg_isready", "psql", "pg_dump", "gosu", "hlpg-image-entrypoint.sh", ...(i.backup ? ["pgbackrest", "age", "curl", "jq", "xmllint"] : [])];
  const files: [string, string][] = [
    [`${bin}/postgres`, `${bin}/postgres is missing (the backup scripts use that path)`],
    ...(i.audit ? [[`/usr/lib/postgresql/${m}/lib/pgaudit.so`, "pgAudit is missing (postgres.audit.enabled)"] as [string, string]] : []),
    ...(i.vector ? [[`/usr/share/postgresql/${m}/extension/vector.control`, "pgvector is missing (an app asks for the vector extension)"] as [string, string]] : []),
  ];
  return `problems=0
problem() { echo "image check: $*"; problems=$((problems + 1)); }
v=$(postgres --version 2>&1) || v="no postgres on PATH ($v)"
case "$v" in
  *" ${m}."[0-9]*) ;;
  *) problem "postgres --version says: $v; postgres.majorVersion is ${m}" ;;
esac
for t in ${tools.join(" ")}; do
  command -v "$t" >/dev/null 2>&1 || problem "$t is not on PATH"
done
${files.map(([f, why]) => `[ -e ${shellQuote(f)} ] || problem ${shellQuote(why)}`).join("\n")}
[ "$(id -u postgres 2>/dev/null)" = 999 ] && [ "$(id -g postgres 2>/dev/null)" = 999 ] || problem "the postgres user is not uid and gid 999 (the volumes' owner)"
locale -a 2>/dev/null | grep -qiE '^en_US\\.utf-?8$' || problem "the en_US.UTF-8 locale is missing"
if [ "$problems" -gt 0 ]; then
  echo "image check: $problems problem(s): the image does not keep the contract of docs/images.md"
  exit 1
fi
echo "image check: ok ($v)"
`;
}

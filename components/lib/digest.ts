import { createHash } from "crypto";

/** Stable sha256 hex of text parts (NUL-separated), for image tags and change triggers. */
export function digest(...parts: string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}

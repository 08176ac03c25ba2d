// The assertion the backup renderers share before text is emitted: the message
// names what was refused and shows the value (never call it with a secret).
import { isPort } from "../lib/net";

export function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new Error(`invalid ${what}: ${JSON.stringify(value)}`);
}

/** A TCP port, or an error naming `what`. */
export function checkPort(n: number, what: string): number {
  check(isPort(n), `${what} (1-65535)`, n);
  return n;
}

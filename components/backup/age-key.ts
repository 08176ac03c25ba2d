// The age key of the logical dumps, derived from the backup passphrase, and the
// bech32 encoding age writes keys in. Pure; no age binary needed.
import { createPrivateKey, createPublicKey, hkdfSync } from "crypto";

const BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

function bech32Polymod(values: number[]): number {
  const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ gen[i]) >>> 0;
  }
  return chk;
}

/** BIP-173 bech32 (not bech32m) without the 90-character limit, as age uses it. */
export function bech32Encode(hrp: string, data5: number[]): string {
  const expand = [...hrp].map((c) => c.charCodeAt(0) >> 5).concat([0], [...hrp].map((c) => c.charCodeAt(0) & 31));
  const mod = bech32Polymod([...expand, ...data5, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  return `${hrp}1${[...data5, ...checksum].map((d) => BECH32[d]).join("")}`;
}

/** 8-bit bytes to 5-bit groups, padded (bech32 data part). */
export function toFiveBit(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push((acc >>> bits) & 31);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

/** An age recipient as the script accepts it (validated before it is rendered). */
export { AGE_RECIPIENT } from "../lib/names";

export interface AgeKey {
  /** AGE-SECRET-KEY-1...: decrypts; secret. */
  identity: string;
  /** age1...: encrypts; public. */
  recipient: string;
}

/**
 * The age X25519 key of the logical dumps, derived from the backup passphrase with
 * HKDF-SHA256. age 1.1 reads passphrases only from a terminal, so unattended
 * encryption needs a recipient key; deriving it means the one passphrase the
 * operator already escrows for pgBackRest also recovers every dump (no second
 * secret that could be lost with the Pulumi state).
 */
export function ageKeyFromPassphrase(passphrase: string): AgeKey {
  if (passphrase.length < 20) throw new Error("backup passphrase must be at least 20 characters");
  const seed = Buffer.from(hkdfSync("sha256", Buffer.from(passphrase, "utf8"), "homelab-postgres", "logical-dump age identity v1", 32));
  // PKCS#8 wrapper of a raw X25519 private key (RFC 8410).
  const der = Buffer.concat([Buffer.from("302e020100300506032b656e04220420", "hex"), seed]);
  const pub = createPublicKey(createPrivateKey({ key: der, format: "der", type: "pkcs8" })).export({ format: "der", type: "spki" });
  const raw = pub.subarray(pub.length - 32); // SPKI = 12-byte header + 32-byte key
  return {
    identity: bech32Encode("age-secret-key-", toFiveBit(seed)).toUpperCase(),
    recipient: bech32Encode("age", toFiveBit(raw)),
  };
}

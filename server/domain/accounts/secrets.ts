import { toBase64Url } from "../../../protocol/api/base64.ts";
import { systemRng, toHex, utf8 } from "../../../protocol/crypto/bytes.ts";
import { constantTimeEqualText } from "../../../protocol/crypto/constant-time.ts";
import { noblePrimitives } from "../../../protocol/crypto/noble.ts";

/**
 * Server-side secrets and their hashes. Tokens, codes and device secrets are random and
 * long, so a SHA-256 is enough to store them (no slow hash: nothing to brute-force).
 * One-time codes are short (6 digits): they are stored as an HMAC under a server key kept in
 * the same database (`server_secrets`), which stops offline guessing only for whoever has a
 * copy of the codes table without that key.
 */

/** A random token as base64url (`bytes` of entropy). */
export function randomToken(bytes = 32): string {
  return toBase64Url(systemRng(bytes));
}

export async function sha256Hex(data: Uint8Array | string): Promise<string> {
  return toHex(await noblePrimitives.sha256(typeof data === "string" ? utf8(data) : data));
}

export async function hmacHex(key: Uint8Array, data: string): Promise<string> {
  return toHex(await noblePrimitives.hmacSha256(key, utf8(data)));
}

/** Compares two hex digests in constant time. */
export function sameDigest(a: string, b: string): boolean {
  return constantTimeEqualText(a, b);
}

/** A 6-digit code, uniform (rejection sampling avoids modulo bias). */
export function randomSixDigits(): string {
  for (;;) {
    const n = new DataView(systemRng(4).buffer).getUint32(0);
    if (n < 4_294_000_000) return String(n % 1_000_000).padStart(6, "0");
  }
}

// Leak detection for the "the server never sees plaintext" tests: every spelling a secret
// could take in a file or a log line (raw bytes, hex in either case, base64 and base64url at
// any alignment inside a longer encoded value), searched in every file of a directory tree.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** Byte patterns whose presence means the secret leaked. */
export function spellings(secret: Uint8Array): Uint8Array[] {
  const text = new TextEncoder();
  const out: Uint8Array[] = [secret];
  const hex = Buffer.from(secret).toString("hex");
  out.push(text.encode(hex), text.encode(hex.toUpperCase()));
  // A secret inside a longer value starts at byte offset 0, 1 or 2 of a base64 quantum; the
  // characters that depend on the secret alone are the same whatever surrounds it.
  for (let shift = 0; shift < 3; shift++) {
    const padded = new Uint8Array(shift + secret.length);
    padded.set(secret, shift);
    const b64 = Buffer.from(padded).toString("base64").replace(/=+$/, "");
    const firstClean = Math.ceil((shift * 4) / 3);
    const lastClean = Math.floor(((shift + secret.length) * 4) / 3);
    const core = b64.slice(firstClean + 1, lastClean - 1);
    out.push(text.encode(core), text.encode(core.replaceAll("+", "-").replaceAll("/", "_")));
  }
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).includes(needle);
}

/** Every regular file under `dir`, with its bytes. */
export function filesUnder(dir: string): { path: string; bytes: Uint8Array }[] {
  const out: { path: string; bytes: Uint8Array }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path);
    if (st.isDirectory()) out.push(...filesUnder(path));
    else if (st.isFile()) out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/**
 * Where each named secret shows up among the places, as "secret in place" strings: the
 * empty list means nothing leaked.
 */
export function findLeaks(
  secrets: Record<string, Uint8Array>,
  places: { path: string; bytes: Uint8Array }[],
): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(secrets)) {
    if (secret.length < 8) throw new Error(`secret ${name} too short to search for`);
    for (const pattern of spellings(secret))
      for (const place of places)
        if (contains(place.bytes, pattern)) found.push(`${name} in ${place.path}`);
  }
  return [...new Set(found)];
}

import { sha256 } from "@noble/hashes/sha2.js";
import { utf8ToBytes } from "@noble/hashes/utils.js";

/**
 * Compares two byte strings in time that depends only on their lengths, never on where
 * they differ. Use it for every MAC, tag, token or secret comparison.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Compares two secrets given as text (bearer tokens). Both are hashed first, so the time
 * taken reveals neither their contents nor the expected length.
 */
export function constantTimeEqualText(given: string, expected: string): boolean {
  return constantTimeEqual(sha256(utf8ToBytes(given)), sha256(utf8ToBytes(expected)));
}

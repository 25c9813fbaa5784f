import { concatBytes } from "../crypto/bytes.ts";

/**
 * Key-type tags prefixed to public keys wherever they enter a transcript or associated
 * data (PQXDH revision 3 does the same), so a key of one type can never be read as another.
 * 0x05 and 0x08 are libsignal's values for Curve25519 and Kyber-1024 keys.
 */
export const KEY_TAG = {
  x25519: 0x05,
  ed25519: 0x06,
  mlkem1024: 0x08,
} as const;

export function tagged(tag: (typeof KEY_TAG)[keyof typeof KEY_TAG], key: Uint8Array): Uint8Array {
  return concatBytes(Uint8Array.of(tag), key);
}

import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, utf8 } from "../crypto/bytes.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import { X25519_KEY_BYTES } from "../crypto/primitives.ts";
import { checkX25519PublicKey } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";

/**
 * The code a new device shows (as text and in a QR code) so an existing device can send it
 * the account key. It carries the new device's whole ephemeral X25519 public key — never a
 * short code the server would resolve, which would let the server take the key's place.
 *
 * Bytes: version 0x01 ‖ public key[32] ‖ check[2], check = SHA-256("Parley-v1 link code" ‖
 * key)[0..2], so a typo is caught before anything is encrypted. Text: Crockford base32
 * (no I, L, O, U), 56 characters in groups of 4 joined by '-'; input is read case-insensitively
 * and ignores spaces and dashes, with O→0 and I/L→1 as Crockford allows.
 */
export const LINK_CODE_VERSION = 1;
const CHECK_BYTES = 2;
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const CHECK_LABEL = utf8("Parley-v1 link code");

function check(key: Uint8Array): Uint8Array {
  return sha256(concatBytes(CHECK_LABEL, key)).slice(0, CHECK_BYTES);
}

function toBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

function fromBase32(text: string): Uint8Array | undefined {
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of text) {
    const i = ALPHABET.indexOf(ch);
    if (i < 0) return undefined;
    value = ((value << 5) | i) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Uint8Array.from(out);
}

/** The text code for a new device's ephemeral public key. */
export function encodeLinkCode(publicKey: Uint8Array): string {
  checkX25519PublicKey(publicKey, "linkKey");
  const chars = toBase32(
    concatBytes(Uint8Array.of(LINK_CODE_VERSION), publicKey, check(publicKey)),
  );
  return chars.match(/.{1,4}/g)!.join("-");
}

/** Reads a code typed or scanned on the existing device; a typo is `invalid_key`. */
export function parseLinkCode(text: string): Uint8Array {
  const normalized = text
    .toUpperCase()
    .replace(/[\s-]/g, "")
    .replace(/O/g, "0")
    .replace(/[IL]/g, "1");
  const bytes = fromBase32(normalized);
  const invalid = () =>
    new ParleyError("invalid_key", "This link code is not valid; check it for typos.", {
      field: "linkCode",
    });
  if (
    !bytes ||
    bytes.length !== 1 + X25519_KEY_BYTES + CHECK_BYTES ||
    bytes[0] !== LINK_CODE_VERSION
  )
    throw invalid();
  const key = bytes.slice(1, 1 + X25519_KEY_BYTES);
  if (!constantTimeEqual(bytes.slice(1 + X25519_KEY_BYTES), check(key))) throw invalid();
  try {
    return checkX25519PublicKey(key, "linkKey");
  } catch {
    throw invalid();
  }
}

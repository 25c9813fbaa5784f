import { ed25519 } from "@noble/curves/ed25519.js";
import { ParleyError } from "../errors.ts";
import { expectBytes, toHex } from "./bytes.ts";
import { ED25519_PUBLIC_KEY_BYTES } from "./primitives.ts";

/** Keys already found good, so a sender's key is checked once, not at every message. */
const KNOWN_GOOD = new Set<string>();
const KNOWN_GOOD_MAX = 4096;

/**
 * Accepts an Ed25519 public key only when it is a canonical point encoding of large order.
 * Needed on top of "strict" verification: WebCrypto accepts the all-identity signature
 * (R = identity, S = 0) for the identity public key on *every* message, so a server handing
 * out a small-order key could otherwise forge anything. (Mixed-order keys are not rejected:
 * they let only their holder, never a forger, produce odd signatures.)
 */
export function checkEd25519PublicKey(key: unknown, name: string): Uint8Array {
  const bytes = expectBytes(key, ED25519_PUBLIC_KEY_BYTES, name);
  const id = toHex(bytes);
  if (KNOWN_GOOD.has(id)) return bytes;
  let smallOrder: boolean;
  try {
    smallOrder = ed25519.Point.fromBytes(bytes, false).isSmallOrder();
  } catch {
    throw new ParleyError("invalid_key", `'${name}' is not a canonical Ed25519 key`, {
      field: name,
    });
  }
  if (smallOrder) {
    throw new ParleyError("invalid_key", `'${name}' is a small-order Ed25519 point`, {
      field: name,
    });
  }
  if (KNOWN_GOOD.size >= KNOWN_GOOD_MAX) KNOWN_GOOD.clear();
  KNOWN_GOOD.add(id);
  return bytes;
}

/** The same check as a boolean, for verification functions that never throw. */
export function isUsableEd25519PublicKey(key: Uint8Array): boolean {
  try {
    checkEd25519PublicKey(key, "publicKey");
    return true;
  } catch {
    return false;
  }
}

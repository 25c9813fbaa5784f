import { ParleyError } from "../errors.ts";
import { expectBytes } from "./bytes.ts";
import { type Primitives, X25519_KEY_BYTES } from "./primitives.ts";

const P = 2n ** 255n - 19n;

/**
 * u-coordinates of the points of small order on Curve25519 and its twist, in canonical form
 * (0, 1, p − 1 and the two points of order 8). A peer offering one of them would force a
 * predictable shared secret.
 */
const LOW_ORDER = [
  0n,
  1n,
  P - 1n,
  325606250916557431795983626356110631294008115727848805560023387167927233504n,
  39382357235489614581723060781553021112529911719440698176882885853963445705823n,
];

function littleEndian(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

/**
 * Accepts only canonical X25519 public keys of large order: 32 bytes, top bit clear, value
 * below p = 2^255 − 19, and not one of the low-order points. RFC 7748 lets implementations
 * accept the rest (masking and reducing them); Parley refuses them, so each public key has
 * exactly one encoding and no peer can choose a weak one.
 */
export function checkX25519PublicKey(key: unknown, name: string): Uint8Array {
  const bytes = expectBytes(key, X25519_KEY_BYTES, name);
  const u = littleEndian(bytes);
  if (u >= P) {
    throw new ParleyError("invalid_key", `'${name}' is not a canonical X25519 key`, {
      field: name,
    });
  }
  if (LOW_ORDER.includes(u)) {
    throw new ParleyError("invalid_key", `'${name}' is a low-order X25519 point`, { field: name });
  }
  return bytes;
}

/** X25519 with a validated peer key; an all-zero result is refused too. */
export async function x25519Agree(
  prims: Primitives,
  secretKey: Uint8Array,
  peerPublicKey: Uint8Array,
  name: string,
): Promise<Uint8Array> {
  checkX25519PublicKey(peerPublicKey, name);
  try {
    return await prims.x25519.sharedSecret(secretKey, peerPublicKey);
  } catch (err) {
    throw new ParleyError("invalid_key", `'${name}' gives no usable shared secret`, {
      field: name,
      cause: err,
    });
  }
}

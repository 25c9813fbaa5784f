import { AeadKey } from "../crypto/aead.ts";
import { concatBytes } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { deriveKey } from "../crypto/kdf.ts";
import { AES_256_KEY_BYTES, AES_GCM_NONCE_BYTES } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";

/**
 * Sealing under a long-lived key (the profile key, the account key for device names and
 * contact nicknames):
 *   sealed = version u8 (1) ‖ nonce fixed(12) ‖ AES-256-GCM ciphertext with its 16-byte tag
 *   key    = HKDF(secret, purpose's info, 32)
 *   AAD    = version u8 ‖ the caller's binding (owner ids)
 * The key seals many values over its life, so the nonce is random (ctx.rng), not derived
 * from the secret as `sealOnce` does: a derived nonce would repeat on the second update.
 * 96-bit random nonces keep GCM safe for 2^32 seals per key; a profile or device name is
 * updated by hand, orders of magnitude fewer times.
 */
export const SEALED_VERSION = 1;
const GCM_TAG_BYTES = 16;
/** Shortest possible sealed value: version, nonce and the tag of an empty plaintext. */
export const SEALED_OVERHEAD_BYTES = 1 + AES_GCM_NONCE_BYTES + GCM_TAG_BYTES;

type SealPurpose = "profile" | "deviceName" | "contactNickname";

async function aeadKey(
  ctx: ProtocolContext,
  purpose: SealPurpose,
  secret: Uint8Array,
): Promise<AeadKey> {
  return new AeadKey(ctx.prims, await deriveKey(ctx.prims, purpose, secret, AES_256_KEY_BYTES));
}

/** Seals `plaintext` under HKDF(`secret`, `purpose`) with a fresh random nonce. */
export async function sealWithRandomNonce(
  ctx: ProtocolContext,
  purpose: SealPurpose,
  secret: Uint8Array,
  plaintext: Uint8Array,
  binding: Uint8Array,
): Promise<Uint8Array> {
  const version = Uint8Array.of(SEALED_VERSION);
  const nonce = ctx.rng(AES_GCM_NONCE_BYTES);
  const key = await aeadKey(ctx, purpose, secret);
  const ciphertext = await key.seal(nonce, plaintext, concatBytes(version, binding));
  return concatBytes(version, nonce, ciphertext);
}

/**
 * Opens what `sealWithRandomNonce` sealed. Every failure — too short, unknown version, wrong
 * key, wrong binding, a changed byte — is `decrypt_failed`, so the cause cannot be probed.
 */
export async function openWithRandomNonce(
  ctx: ProtocolContext,
  purpose: SealPurpose,
  secret: Uint8Array,
  sealed: Uint8Array,
  binding: Uint8Array,
): Promise<Uint8Array> {
  if (!(sealed instanceof Uint8Array) || sealed.length < SEALED_OVERHEAD_BYTES) {
    throw new ParleyError("decrypt_failed", undefined, { detail: `${purpose}: too short` });
  }
  if (sealed[0] !== SEALED_VERSION) {
    throw new ParleyError("decrypt_failed", undefined, {
      detail: `${purpose}: unknown version ${sealed[0]}`,
    });
  }
  const nonce = sealed.subarray(1, 1 + AES_GCM_NONCE_BYTES);
  const ciphertext = sealed.subarray(1 + AES_GCM_NONCE_BYTES);
  const key = await aeadKey(ctx, purpose, secret);
  return key.open(nonce, ciphertext, concatBytes(sealed.subarray(0, 1), binding));
}

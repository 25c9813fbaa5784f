import { ParleyError } from "../errors.ts";
import { expectBytes, toHex } from "./bytes.ts";
import { deriveKey, type KdfPurpose } from "./kdf.ts";
import { AES_256_KEY_BYTES, AES_GCM_NONCE_BYTES, type Primitives } from "./primitives.ts";

/**
 * Parley's one AEAD is AES-256-GCM: WebCrypto has it natively in Bun and every browser
 * (hardware AES, no JavaScript in the hot path), and no Parley key encrypts enough messages
 * for GCM's limits to matter — message keys are used once, attachment keys per file with a
 * counter nonce. XChaCha20-Poly1305 would allow random nonces but has no native path.
 */

/** An AES-256-GCM key that refuses to seal twice under one nonce. */
export class AeadKey {
  private readonly usedNonces = new Set<string>();
  private readonly key: Uint8Array;

  constructor(
    private readonly prims: Primitives,
    key: Uint8Array,
  ) {
    this.key = expectBytes(key, AES_256_KEY_BYTES, "aeadKey");
  }

  /** Encrypts; throws (a programming error, not bad input) if `nonce` was used before. */
  seal(nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    expectBytes(nonce, AES_GCM_NONCE_BYTES, "nonce");
    const id = toHex(nonce);
    if (this.usedNonces.has(id)) throw new Error("AEAD nonce reuse refused");
    this.usedNonces.add(id);
    return this.prims.aes256gcm.encrypt(this.key, nonce, plaintext, aad);
  }

  /** Decrypts and authenticates; any failure is `decrypt_failed`. */
  async open(nonce: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
    const plaintext = await this.prims.aes256gcm.decrypt(this.key, nonce, ciphertext, aad);
    if (!plaintext)
      throw new ParleyError("decrypt_failed", undefined, { detail: "AEAD tag mismatch" });
    return plaintext;
  }
}

/**
 * Encrypts under a single-use secret (a ratchet or sender-key message key): key and nonce
 * both come from HKDF(secret, purpose), so a secret used once can never repeat a nonce.
 */
export async function sealOnce(
  prims: Primitives,
  purpose: KdfPurpose,
  secret: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const okm = await deriveKey(prims, purpose, secret, AES_256_KEY_BYTES + AES_GCM_NONCE_BYTES);
  return prims.aes256gcm.encrypt(okm.subarray(0, 32), okm.slice(32), plaintext, aad);
}

/** Opens what `sealOnce` sealed; any failure is `decrypt_failed`. */
export async function openOnce(
  prims: Primitives,
  purpose: KdfPurpose,
  secret: Uint8Array,
  ciphertext: Uint8Array,
  aad: Uint8Array,
): Promise<Uint8Array> {
  const okm = await deriveKey(prims, purpose, secret, AES_256_KEY_BYTES + AES_GCM_NONCE_BYTES);
  const plaintext = await prims.aes256gcm.decrypt(okm.slice(0, 32), okm.slice(32), ciphertext, aad);
  if (!plaintext)
    throw new ParleyError("decrypt_failed", undefined, { detail: "AEAD tag mismatch" });
  return plaintext;
}

import type { Rng } from "./bytes.ts";

/** Sizes of keys and values, named so every check says what it expects. */
export const X25519_KEY_BYTES = 32;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SECRET_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
export const AES_256_KEY_BYTES = 32;
export const AES_GCM_NONCE_BYTES = 12;
export const AES_GCM_TAG_BYTES = 16;
export const MLKEM1024_PUBLIC_KEY_BYTES = 1568;
export const MLKEM1024_SECRET_KEY_BYTES = 3168;
export const MLKEM1024_CIPHERTEXT_BYTES = 1568;
export const MLKEM_SHARED_SECRET_BYTES = 32;
export const SHA256_BYTES = 32;

export interface KeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/**
 * The raw primitives, in two interchangeable implementations held to the same test vectors:
 * `native` (the runtime's WebCrypto for X25519, Ed25519 and AES-GCM; hashes stay in
 * JavaScript, where they are faster for the small inputs the protocol hashes) and `noble`
 * (pure JavaScript; the reference and the fallback). ML-KEM is noble in both.
 *
 * These functions check lengths but not meaning: protocol code uses the wrappers in
 * `keys.ts`, `aead.ts` and `kdf.ts`, which add point validation, nonce discipline and
 * domain separation. Secret keys are raw bytes (32-byte X25519 scalar, 32-byte Ed25519 seed).
 */
export interface Primitives {
  readonly name: "native" | "noble";
  x25519: {
    generateKeyPair(rng: Rng): Promise<KeyPair>;
    publicKey(secretKey: Uint8Array): Promise<Uint8Array>;
    /** Raw X25519. Throws on an all-zero result (a low-order peer key). */
    sharedSecret(secretKey: Uint8Array, publicKey: Uint8Array): Promise<Uint8Array>;
  };
  ed25519: {
    generateKeyPair(rng: Rng): Promise<KeyPair>;
    sign(secretKey: Uint8Array, message: Uint8Array): Promise<Uint8Array>;
    /** Strict RFC 8032 verification (canonical encodings, S < L). Never throws. */
    verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>;
  };
  aes256gcm: {
    encrypt(
      key: Uint8Array,
      nonce: Uint8Array,
      plaintext: Uint8Array,
      aad: Uint8Array,
    ): Promise<Uint8Array>;
    /** Null when the tag does not verify. */
    decrypt(
      key: Uint8Array,
      nonce: Uint8Array,
      ciphertext: Uint8Array,
      aad: Uint8Array,
    ): Promise<Uint8Array | null>;
  };
  hkdfSha256(
    ikm: Uint8Array,
    salt: Uint8Array,
    info: Uint8Array,
    length: number,
  ): Promise<Uint8Array>;
  hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array>;
  sha256(data: Uint8Array): Promise<Uint8Array>;
  sha512(data: Uint8Array): Promise<Uint8Array>;
  mlkem1024: {
    generateKeyPair(rng: Rng): Promise<KeyPair>;
    encapsulate(
      publicKey: Uint8Array,
      rng: Rng,
    ): Promise<{ ciphertext: Uint8Array; sharedSecret: Uint8Array }>;
    /** Implicit rejection: a bad ciphertext yields a pseudo-random secret, never an error. */
    decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
  };
}

import { gcm } from "@noble/ciphers/aes.js";
import { ed25519, x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256, sha512 } from "@noble/hashes/sha2.js";
import { ml_kem1024 } from "@noble/post-quantum/ml-kem.js";
import { expectBytes } from "./bytes.ts";
import { isUsableEd25519PublicKey } from "./ed25519-key.ts";
import {
  AES_256_KEY_BYTES,
  AES_GCM_NONCE_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  MLKEM1024_CIPHERTEXT_BYTES,
  MLKEM1024_PUBLIC_KEY_BYTES,
  MLKEM1024_SECRET_KEY_BYTES,
  type Primitives,
  X25519_KEY_BYTES,
} from "./primitives.ts";

/** ML-KEM key generation takes a 64-byte seed (d ‖ z); encapsulation a 32-byte message. */
export const MLKEM_KEYGEN_SEED_BYTES = 64;
export const MLKEM_ENCAPS_SEED_BYTES = 32;

/** Pure-JavaScript primitives (@noble/*): the reference implementation and the fallback. */
export const noblePrimitives: Primitives = {
  name: "noble",
  x25519: {
    async generateKeyPair(rng) {
      const secretKey = expectBytes(rng(X25519_KEY_BYTES), X25519_KEY_BYTES, "rng output");
      return { secretKey, publicKey: x25519.getPublicKey(secretKey) };
    },
    async publicKey(secretKey) {
      return x25519.getPublicKey(expectBytes(secretKey, X25519_KEY_BYTES, "secretKey"));
    },
    async sharedSecret(secretKey, publicKey) {
      expectBytes(secretKey, X25519_KEY_BYTES, "secretKey");
      expectBytes(publicKey, X25519_KEY_BYTES, "publicKey");
      // noble throws on an all-zero shared secret, as WebCrypto does.
      return x25519.getSharedSecret(secretKey, publicKey);
    },
  },
  ed25519: {
    async generateKeyPair(rng) {
      const secretKey = expectBytes(
        rng(ED25519_SECRET_KEY_BYTES),
        ED25519_SECRET_KEY_BYTES,
        "rng output",
      );
      return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
    },
    async sign(secretKey, message) {
      return ed25519.sign(message, expectBytes(secretKey, ED25519_SECRET_KEY_BYTES, "secretKey"));
    },
    async verify(publicKey, message, signature) {
      // A small-order or non-canonical key would let anyone forge (see ed25519-key.ts).
      if (signature.length !== ED25519_SIGNATURE_BYTES || !isUsableEd25519PublicKey(publicKey)) {
        return false;
      }
      try {
        // zip215: false is RFC 8032's strict rule set, matching WebCrypto's.
        return ed25519.verify(signature, message, publicKey, { zip215: false });
      } catch {
        return false;
      }
    },
  },
  aes256gcm: {
    async encrypt(key, nonce, plaintext, aad) {
      expectBytes(key, AES_256_KEY_BYTES, "key");
      expectBytes(nonce, AES_GCM_NONCE_BYTES, "nonce");
      return gcm(key, nonce, aad).encrypt(plaintext);
    },
    async decrypt(key, nonce, ciphertext, aad) {
      expectBytes(key, AES_256_KEY_BYTES, "key");
      expectBytes(nonce, AES_GCM_NONCE_BYTES, "nonce");
      try {
        return gcm(key, nonce, aad).decrypt(ciphertext);
      } catch {
        return null;
      }
    },
  },
  async hkdfSha256(ikm, salt, info, length) {
    return hkdf(sha256, ikm, salt, info, length);
  },
  async hmacSha256(key, data) {
    return hmac(sha256, key, data);
  },
  async sha256(data) {
    return sha256(data);
  },
  async sha512(data) {
    return sha512(data);
  },
  mlkem1024: {
    async generateKeyPair(rng) {
      const seed = expectBytes(rng(MLKEM_KEYGEN_SEED_BYTES), MLKEM_KEYGEN_SEED_BYTES, "rng output");
      return ml_kem1024.keygen(seed);
    },
    async encapsulate(publicKey, rng) {
      expectBytes(publicKey, MLKEM1024_PUBLIC_KEY_BYTES, "kemPublicKey");
      const msg = expectBytes(rng(MLKEM_ENCAPS_SEED_BYTES), MLKEM_ENCAPS_SEED_BYTES, "rng output");
      const { cipherText, sharedSecret } = ml_kem1024.encapsulate(publicKey, msg);
      return { ciphertext: cipherText, sharedSecret };
    },
    async decapsulate(ciphertext, secretKey) {
      expectBytes(ciphertext, MLKEM1024_CIPHERTEXT_BYTES, "kemCiphertext");
      expectBytes(secretKey, MLKEM1024_SECRET_KEY_BYTES, "kemSecretKey");
      // noble wipes the secret key it is given; hand it a copy so stored keys survive.
      return ml_kem1024.decapsulate(ciphertext, secretKey.slice());
    },
  },
};

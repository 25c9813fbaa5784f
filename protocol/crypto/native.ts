import { concatBytes, expectBytes } from "./bytes.ts";
import { isUsableEd25519PublicKey } from "./ed25519-key.ts";
import { noblePrimitives } from "./noble.ts";
import {
  AES_256_KEY_BYTES,
  AES_GCM_NONCE_BYTES,
  ED25519_SECRET_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  type Primitives,
  X25519_KEY_BYTES,
} from "./primitives.ts";

// The slice of WebCrypto used here, typed locally: protocol/ is checked without DOM types.
type CryptoKeyHandle = { readonly type: string };
type Algorithm = string | { name: string; [k: string]: unknown };
interface Subtle {
  importKey(
    format: "raw" | "pkcs8",
    key: Uint8Array,
    alg: Algorithm,
    extractable: boolean,
    usages: string[],
  ): Promise<CryptoKeyHandle>;
  exportKey(format: "jwk", key: CryptoKeyHandle): Promise<{ x?: string }>;
  sign(alg: Algorithm, key: CryptoKeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  verify(
    alg: Algorithm,
    key: CryptoKeyHandle,
    signature: Uint8Array,
    data: Uint8Array,
  ): Promise<boolean>;
  encrypt(alg: Algorithm, key: CryptoKeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  decrypt(alg: Algorithm, key: CryptoKeyHandle, data: Uint8Array): Promise<ArrayBuffer>;
  deriveBits(alg: Algorithm, key: CryptoKeyHandle, length: number): Promise<ArrayBuffer>;
  digest(alg: string, data: Uint8Array): Promise<ArrayBuffer>;
}

function subtle(): Subtle | undefined {
  return (globalThis as { crypto?: { subtle?: Subtle } }).crypto?.subtle;
}

// PKCS#8 wrappers of a raw 32-byte secret (RFC 8410): the only way WebCrypto imports one.
const PKCS8_X25519 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);
const PKCS8_ED25519 = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * Imported keys are cached per byte array: protocol code keeps one Uint8Array per key for its
 * lifetime, so a key is imported once, not at every use. Keyed by identity (a WeakMap), so
 * a dropped key array frees its handle.
 */
function keyCache(importer: (bytes: Uint8Array) => Promise<CryptoKeyHandle>) {
  const cache = new WeakMap<Uint8Array, Promise<CryptoKeyHandle>>();
  return (bytes: Uint8Array) => {
    let key = cache.get(bytes);
    if (!key) {
      key = importer(bytes);
      cache.set(bytes, key);
      // A failed import must not stay cached.
      key.catch(() => cache.delete(bytes));
    }
    return key;
  };
}

function base64urlToBytes(s: string): Uint8Array {
  const b64 = s.replaceAll("-", "+").replaceAll("_", "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

function make(s: Subtle): Primitives {
  const x25519Secret = keyCache((k) =>
    s.importKey("pkcs8", concatBytes(PKCS8_X25519, k), "X25519", true, ["deriveBits"]),
  );
  const x25519Public = keyCache((k) => s.importKey("raw", k, "X25519", false, []));
  const edSecret = keyCache((k) =>
    s.importKey("pkcs8", concatBytes(PKCS8_ED25519, k), "Ed25519", true, ["sign"]),
  );
  const edPublic = keyCache((k) => s.importKey("raw", k, "Ed25519", false, ["verify"]));
  const aesKey = keyCache((k) => s.importKey("raw", k, "AES-GCM", false, ["encrypt", "decrypt"]));

  // WebCrypto cannot compute a public key from a raw secret; a JWK export of the secret
  // carries it (`x`).
  const publicOf = async (secret: Promise<CryptoKeyHandle>) => {
    const jwk = await s.exportKey("jwk", await secret);
    return base64urlToBytes(jwk.x ?? "");
  };

  return {
    name: "native",
    x25519: {
      async generateKeyPair(rng) {
        const secretKey = expectBytes(rng(X25519_KEY_BYTES), X25519_KEY_BYTES, "rng output");
        return { secretKey, publicKey: await publicOf(x25519Secret(secretKey)) };
      },
      async publicKey(secretKey) {
        return publicOf(x25519Secret(expectBytes(secretKey, X25519_KEY_BYTES, "secretKey")));
      },
      async sharedSecret(secretKey, publicKey) {
        expectBytes(secretKey, X25519_KEY_BYTES, "secretKey");
        expectBytes(publicKey, X25519_KEY_BYTES, "publicKey");
        const bits = await s.deriveBits(
          { name: "X25519", public: await x25519Public(publicKey) },
          await x25519Secret(secretKey),
          256,
        );
        return new Uint8Array(bits);
      },
    },
    ed25519: {
      async generateKeyPair(rng) {
        const secretKey = expectBytes(
          rng(ED25519_SECRET_KEY_BYTES),
          ED25519_SECRET_KEY_BYTES,
          "rng output",
        );
        return { secretKey, publicKey: await publicOf(edSecret(secretKey)) };
      },
      async sign(secretKey, message) {
        expectBytes(secretKey, ED25519_SECRET_KEY_BYTES, "secretKey");
        return new Uint8Array(await s.sign("Ed25519", await edSecret(secretKey), message));
      },
      async verify(publicKey, message, signature) {
        // A small-order or non-canonical key would let anyone forge (see ed25519-key.ts).
        if (signature.length !== ED25519_SIGNATURE_BYTES || !isUsableEd25519PublicKey(publicKey)) {
          return false;
        }
        try {
          return await s.verify("Ed25519", await edPublic(publicKey), signature, message);
        } catch {
          return false;
        }
      },
    },
    aes256gcm: {
      async encrypt(key, nonce, plaintext, aad) {
        expectBytes(key, AES_256_KEY_BYTES, "key");
        expectBytes(nonce, AES_GCM_NONCE_BYTES, "nonce");
        const out = await s.encrypt(
          { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 },
          await aesKey(key),
          plaintext,
        );
        return new Uint8Array(out);
      },
      async decrypt(key, nonce, ciphertext, aad) {
        expectBytes(key, AES_256_KEY_BYTES, "key");
        expectBytes(nonce, AES_GCM_NONCE_BYTES, "nonce");
        try {
          const out = await s.decrypt(
            { name: "AES-GCM", iv: nonce, additionalData: aad, tagLength: 128 },
            await aesKey(key),
            ciphertext,
          );
          return new Uint8Array(out);
        } catch {
          return null;
        }
      },
    },
    // Measured in Bun 1.4.5: every WebCrypto call costs 40–110 µs of hand-off whatever its
    // size, while noble's HMAC, HKDF and SHA over the few bytes the protocol hashes take
    // 5–15 µs synchronously. The hashes stay in JavaScript; the curve operations and AES,
    // where native wins, go to WebCrypto.
    hkdfSha256: noblePrimitives.hkdfSha256,
    hmacSha256: noblePrimitives.hmacSha256,
    sha256: noblePrimitives.sha256,
    sha512: noblePrimitives.sha512,
    // No runtime has ML-KEM in WebCrypto yet.
    mlkem1024: noblePrimitives.mlkem1024,
  };
}

let probed: Promise<Primitives | undefined> | undefined;

/**
 * The native primitives when this runtime's WebCrypto has X25519, Ed25519, AES-GCM and HKDF
 * (Bun, current browsers), else undefined. The probe runs once.
 */
export function nativePrimitives(): Promise<Primitives | undefined> {
  probed ??= (async () => {
    const s = subtle();
    if (!s) return undefined;
    const p = make(s);
    try {
      const seed = new Uint8Array(32).fill(7);
      const rng = () => seed.slice();
      const a = await p.x25519.generateKeyPair(rng);
      await p.x25519.sharedSecret(a.secretKey, a.publicKey);
      const e = await p.ed25519.generateKeyPair(rng);
      const sig = await p.ed25519.sign(e.secretKey, seed);
      if (!(await p.ed25519.verify(e.publicKey, seed, sig))) return undefined;
      await p.aes256gcm.encrypt(seed, seed.subarray(0, 12), seed, seed);
      await p.hkdfSha256(seed, seed, seed, 32);
      return p;
    } catch {
      return undefined;
    }
  })();
  return probed;
}

/** The fastest primitives this runtime offers: native where available, noble otherwise. */
export async function defaultPrimitives(): Promise<Primitives> {
  return (await nativePrimitives()) ?? noblePrimitives;
}

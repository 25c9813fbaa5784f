import { expectBytes, u64be } from "../crypto/bytes.ts";
import { deriveKey } from "../crypto/kdf.ts";
import {
  AES_256_KEY_BYTES,
  AES_GCM_NONCE_BYTES,
  AES_GCM_TAG_BYTES,
  type Primitives,
} from "../crypto/primitives.ts";

/**
 * The attachment cipher: STREAM (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
 * Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015) over
 * AES-256-GCM, with the nonce layout Tink's AES-GCM-HKDF streaming AEAD also uses.
 *
 *   attachment key  K: 32 random bytes, fresh for every file (and every thumbnail)
 *   HKDF-SHA256(ikm = K, salt = 32 zero bytes, info = "Parley-v1 attachment", 39 bytes)
 *                   = AES key (32) ‖ nonce prefix (7)
 *   nonce of chunk i = nonce prefix (7) ‖ i as u32 big-endian (4) ‖ final flag (1: 0x01 on
 *                      the last chunk, 0x00 on every other)
 *   chunk i         = AES-256-GCM(AES key, nonce i, padded plaintext bytes
 *                      [i·65,536, (i+1)·65,536), AAD) — ciphertext ‖ 16-byte tag, where
 *                      AAD = empty for every chunk but the last, and for the last chunk
 *                      the unpadded plaintext size as u64 big-endian (8 bytes)
 *   blob            = chunk 0 ‖ chunk 1 ‖ … ‖ chunk n−1, nothing else (no header)
 *
 * Each chunk is 65,536 plaintext bytes except the last (1 to 65,536 bytes; the padded
 * plaintext is never empty). The counter in the nonce pins every chunk to its position, so
 * reordered, duplicated or dropped chunks fail to authenticate; the final flag means a blob
 * cut at a chunk boundary cannot pass for a complete shorter one. The size in the last
 * chunk's AAD binds the real size to the ciphertext: padding is zeros, so without it a
 * pointer claiming a few bytes more (or fewer, when the file ends in zeros) would decrypt.
 *
 * No salt or header nonce is stored: STREAM needs a nonce unique per key, and the key is
 * random per file and never reused (the encryptor draws it itself, callers cannot pass one),
 * so the counter alone is unique. The 7-byte prefix is derived rather than zero so that
 * chunks of different files (almost) never share a nonce either, which costs nothing and
 * blunts multi-key attacks on GCM. The version is bound by the HKDF info string, not the
 * AAD: a new format would get a new info string (and a new pointer type).
 */
export const ATTACHMENT_KEY_BYTES = 32;

/** Plaintext bytes per chunk. */
export const ATTACHMENT_CHUNK_BYTES = 64 * 1024;

/** Ciphertext bytes per full chunk: plaintext plus the GCM tag. */
export const ATTACHMENT_CIPHERTEXT_CHUNK_BYTES = ATTACHMENT_CHUNK_BYTES + AES_GCM_TAG_BYTES;

/** Bytes of the derived nonce prefix; the rest of the 12-byte nonce is counter and flag. */
export const ATTACHMENT_NONCE_PREFIX_BYTES = 7;

/** The 4-byte counter bounds a blob to 2^32 chunks (far above the size limit). */
const MAX_CHUNK_INDEX = 0xffff_ffff;
const FINAL_CHUNK = 0x01;
const NOT_FINAL_CHUNK = 0x00;
const EMPTY_AAD = new Uint8Array(0);

/** Number of chunks in a blob of `paddedSize` plaintext bytes (≥ 1). */
export function attachmentChunkCount(paddedSize: number): number {
  return Math.max(1, Math.ceil(paddedSize / ATTACHMENT_CHUNK_BYTES));
}

/** Size of the blob that encrypts `paddedSize` bytes: one 16-byte tag per chunk added. */
export function attachmentBlobSize(paddedSize: number): number {
  return paddedSize + attachmentChunkCount(paddedSize) * AES_GCM_TAG_BYTES;
}

/**
 * Encrypts and decrypts the chunks of one attachment; see the module comment. `final` is
 * given for the last chunk only, with the unpadded plaintext size it authenticates.
 */
export interface ChunkCipher {
  seal(index: number, plaintext: Uint8Array, final?: { size: number }): Promise<Uint8Array>;
  /** Null when the chunk does not authenticate at this position, with this flag and size. */
  open(index: number, ciphertext: Uint8Array, final?: { size: number }): Promise<Uint8Array | null>;
}

/** Derives the AES key and nonce prefix of an attachment key. */
export async function attachmentChunkCipher(
  prims: Primitives,
  attachmentKey: Uint8Array,
): Promise<ChunkCipher> {
  expectBytes(attachmentKey, ATTACHMENT_KEY_BYTES, "key");
  const okm = await deriveKey(
    prims,
    "attachment",
    attachmentKey,
    AES_256_KEY_BYTES + ATTACHMENT_NONCE_PREFIX_BYTES,
  );
  // One array for the whole stream: the native primitives cache the imported key by identity.
  const aesKey = okm.slice(0, AES_256_KEY_BYTES);
  const prefix = okm.slice(AES_256_KEY_BYTES);
  return {
    seal: (index, plaintext, final) =>
      prims.aes256gcm.encrypt(aesKey, chunkNonce(prefix, index, final), plaintext, chunkAad(final)),
    open: (index, ciphertext, final) =>
      prims.aes256gcm.decrypt(
        aesKey,
        chunkNonce(prefix, index, final),
        ciphertext,
        chunkAad(final),
      ),
  };
}

function chunkNonce(prefix: Uint8Array, index: number, final: object | undefined): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index > MAX_CHUNK_INDEX) {
    throw new RangeError(`chunk index out of range: ${index}`);
  }
  const nonce = new Uint8Array(AES_GCM_NONCE_BYTES);
  nonce.set(prefix, 0);
  new DataView(nonce.buffer).setUint32(ATTACHMENT_NONCE_PREFIX_BYTES, index);
  nonce[AES_GCM_NONCE_BYTES - 1] = final ? FINAL_CHUNK : NOT_FINAL_CHUNK;
  return nonce;
}

function chunkAad(final: { size: number } | undefined): Uint8Array {
  return final ? u64be(final.size) : EMPTY_AAD;
}

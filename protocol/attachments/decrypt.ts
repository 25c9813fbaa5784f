import { sha256 } from "@noble/hashes/sha2.js";
import { expectBytes } from "../crypto/bytes.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { AES_GCM_TAG_BYTES, SHA256_BYTES } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import { ByteQueue } from "./byte-queue.ts";
import {
  ATTACHMENT_CHUNK_BYTES,
  ATTACHMENT_KEY_BYTES,
  attachmentBlobSize,
  attachmentChunkCipher,
  attachmentChunkCount,
} from "./chunk-cipher.ts";
import { attachmentPaddedSize } from "./padding.ts";

/** What the receiver knows from the attachment pointer (inside the message ciphertext). */
export interface AttachmentSecrets {
  /** The attachment key, 32 bytes. */
  key: Uint8Array;
  /** SHA-256 of the blob, 32 bytes. */
  digest: Uint8Array;
  /** Plaintext bytes before padding; the padded and blob sizes follow from it. */
  size: number;
}

function failed(detail: string): ParleyError {
  return new ParleyError("decrypt_failed", undefined, { detail: `attachment: ${detail}` });
}

/**
 * Decrypts an attachment blob as a stream, yielding its plaintext (without padding) in
 * pieces of up to 65,536 bytes. Memory stays bounded by about two chunks plus one input piece.
 *
 * Every failure is `decrypt_failed` (the detail says which, for debug logs): a chunk that
 * does not authenticate at its position (flipped byte, wrong key, chunks reordered,
 * duplicated or dropped; a `size` other than the one encrypted fails the final chunk), a
 * blob shorter or longer than `size` implies, non-zero padding, or a blob whose SHA-256 is
 * not `digest`.
 *
 * What is released when: a chunk's plaintext is yielded only after that chunk authenticated
 * at its position. The chunk holding the last bytes of the file is held back until the whole
 * blob has been read and checked (length, every later chunk, padding, digest), so the stream
 * ends without error only for the exact blob the sender hashed, and an attacker can never
 * make a consumer see the end of a file it did not send. A consumer must still treat what it
 * received as incomplete until the iteration finishes: on an error, it has seen an
 * authentic prefix of the file, never its last chunk, and should discard it.
 *
 * Throws `invalid_key` for a key or digest of the wrong length and `limit_exceeded` for a
 * size above `ATTACHMENT_MAX_PLAINTEXT_BYTES`, at the call, before any input is read.
 */
export function decryptAttachmentStream(
  ctx: ProtocolContext,
  blob: AsyncIterable<Uint8Array>,
  expected: AttachmentSecrets,
): AsyncIterable<Uint8Array> {
  const key = expectBytes(expected?.key, ATTACHMENT_KEY_BYTES, "key");
  const digest = expectBytes(expected.digest, SHA256_BYTES, "digest");
  // The padding rule is part of the format: the blob size follows from the plaintext size.
  const paddedSize = attachmentPaddedSize(expected.size);
  return decryptChunks(ctx, blob, { key, digest, size: expected.size }, paddedSize);
}

async function* decryptChunks(
  ctx: ProtocolContext,
  blob: AsyncIterable<Uint8Array>,
  { key, digest, size }: AttachmentSecrets,
  paddedSize: number,
): AsyncIterable<Uint8Array> {
  const cipher = await attachmentChunkCipher(ctx.prims, key);
  const blobSize = attachmentBlobSize(paddedSize);
  const chunkCount = attachmentChunkCount(paddedSize);
  const lastChunkBytes = paddedSize - (chunkCount - 1) * ATTACHMENT_CHUNK_BYTES;
  // Index of the chunk holding the file's last byte (-1 for an empty file): held back.
  const lastDataChunk = Math.ceil(size / ATTACHMENT_CHUNK_BYTES) - 1;
  const hash = sha256.create();
  const queue = new ByteQueue();
  let received = 0;
  let index = 0;
  let heldBack: Uint8Array | undefined;

  const sealedLength = (i: number) =>
    (i < chunkCount - 1 ? ATTACHMENT_CHUNK_BYTES : lastChunkBytes) + AES_GCM_TAG_BYTES;

  for await (const piece of blob) {
    if (!(piece instanceof Uint8Array)) throw new TypeError("attachment blob must be bytes");
    received += piece.length;
    if (received > blobSize) {
      throw failed(`extra data: more than the ${blobSize} bytes a ${size}-byte file takes`);
    }
    hash.update(piece);
    queue.push(piece);
    while (index < chunkCount && queue.length >= sealedLength(index)) {
      const final = index === chunkCount - 1;
      const sealed = queue.take(sealedLength(index));
      const plaintext = await cipher.open(index, sealed, final ? { size } : undefined);
      if (!plaintext) {
        throw failed(`chunk ${index}${final ? " (final)" : ""} does not authenticate`);
      }
      // Bytes of this chunk that belong to the file; the rest is padding and must be zero.
      const start = index * ATTACHMENT_CHUNK_BYTES;
      const dataBytes = Math.max(0, Math.min(plaintext.length, size - start));
      if (!isZero(plaintext.subarray(dataBytes))) {
        throw failed(`non-zero padding in chunk ${index}`);
      }
      if (index < lastDataChunk) yield plaintext;
      else if (index === lastDataChunk) heldBack = plaintext.subarray(0, dataBytes);
      index++;
    }
  }
  if (received < blobSize) throw failed(`truncated: ${received} of ${blobSize} bytes`);
  if (!constantTimeEqual(hash.digest(), digest)) throw failed("blob digest mismatch");
  if (heldBack) yield heldBack;
}

function isZero(bytes: Uint8Array): boolean {
  let acc = 0;
  for (const b of bytes) acc |= b;
  return acc === 0;
}

/** Decrypts a small attachment held in memory; see `decryptAttachmentStream`. */
export async function decryptAttachment(
  ctx: ProtocolContext,
  blob: Uint8Array,
  expected: AttachmentSecrets,
): Promise<Uint8Array> {
  expectBytes(blob, undefined, "blob");
  // Checks the key, digest and size before the output buffer is sized from them.
  const pieces = decryptAttachmentStream(ctx, once(blob), expected);
  const out = new Uint8Array(expected.size);
  let at = 0;
  for await (const piece of pieces) {
    out.set(piece, at);
    at += piece.length;
  }
  return out;
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

import { sha256 } from "@noble/hashes/sha2.js";
import { expectBytes } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ByteQueue } from "./byte-queue.ts";
import {
  ATTACHMENT_CHUNK_BYTES,
  ATTACHMENT_KEY_BYTES,
  attachmentChunkCipher,
  type ChunkCipher,
} from "./chunk-cipher.ts";
import { attachmentPaddedSize, checkAttachmentSize } from "./padding.ts";

/** What the sender puts in the attachment pointer once the blob is written. */
export interface EncryptedAttachment {
  /** The random attachment key (32 bytes); travels only inside message ciphertext. */
  key: Uint8Array;
  /** SHA-256 of the whole blob (32 bytes). */
  digest: Uint8Array;
  /** Plaintext bytes, before padding. */
  size: number;
  /** Plaintext bytes after padding (`attachmentPaddedSize(size)`). */
  paddedSize: number;
  /** Bytes of the blob (`attachmentBlobSize(paddedSize)`). */
  blobSize: number;
}

/**
 * Encrypts one attachment as a stream: iterate it for the blob, chunk by chunk (one chunk of
 * up to 65,552 bytes per step, to upload as it comes), then call `result()`.
 *
 * Memory stays bounded by about two chunks plus one input piece whatever the file size: a
 * chunk is encrypted and handed on as soon as it is known not to be the last one. The input
 * may come in pieces of any size; the blob depends only on the bytes and the key.
 * The key is drawn from `ctx.rng` here, never passed in, so it cannot be reused.
 */
export class AttachmentEncryptor implements AsyncIterable<Uint8Array> {
  private readonly key: Uint8Array;
  private started = false;
  private finished: EncryptedAttachment | undefined;

  constructor(
    private readonly ctx: ProtocolContext,
    private readonly plaintext: AsyncIterable<Uint8Array>,
  ) {
    this.key = expectBytes(ctx.rng(ATTACHMENT_KEY_BYTES), ATTACHMENT_KEY_BYTES, "rng output");
  }

  /** Key, digest and sizes; throws if the blob has not been read to its end. */
  result(): EncryptedAttachment {
    if (!this.finished) throw new Error("read the whole blob before asking for its key and digest");
    return this.finished;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.started) throw new Error("an attachment stream can be read only once");
    this.started = true;
    const cipher = await attachmentChunkCipher(this.ctx.prims, this.key);
    const chunks = new ChunkSealer(cipher);
    const queue = new ByteQueue();
    let size = 0;
    for await (const piece of this.plaintext) {
      if (!(piece instanceof Uint8Array)) throw new TypeError("attachment input must be bytes");
      size += piece.length;
      checkAttachmentSize(size, "size");
      queue.push(piece);
      // Only a chunk with more bytes after it is surely not the last: the last one carries
      // the final flag, and which chunk is last depends on padding known only at the end.
      while (queue.length > ATTACHMENT_CHUNK_BYTES) {
        yield await chunks.seal(queue.take(ATTACHMENT_CHUNK_BYTES));
      }
    }
    const paddedSize = attachmentPaddedSize(size);
    // What is left: the queued tail of the input, then zero padding, in chunks.
    let remaining = paddedSize - (size - queue.length);
    while (remaining > 0) {
      const chunk = new Uint8Array(Math.min(ATTACHMENT_CHUNK_BYTES, remaining));
      chunk.set(queue.take(Math.min(chunk.length, queue.length)));
      remaining -= chunk.length;
      yield await chunks.seal(chunk, remaining === 0 ? { size } : undefined);
    }
    this.finished = {
      key: this.key,
      digest: chunks.digest(),
      size,
      paddedSize,
      blobSize: chunks.blobSize,
    };
  }
}

/** Seals chunks in order and hashes the blob as it is produced. */
class ChunkSealer {
  private index = 0;
  private readonly hash = sha256.create();
  blobSize = 0;

  constructor(private readonly cipher: ChunkCipher) {}

  async seal(plaintext: Uint8Array, final?: { size: number }): Promise<Uint8Array> {
    // The counter only goes up and the key is fresh for this file: no nonce can repeat.
    const sealed = await this.cipher.seal(this.index++, plaintext, final);
    // WebCrypto's digest is one-shot; an incremental hash keeps memory bounded.
    this.hash.update(sealed);
    this.blobSize += sealed.length;
    return sealed;
  }

  digest(): Uint8Array {
    return this.hash.digest();
  }
}

/** Starts encrypting an attachment read from `plaintext`; see `AttachmentEncryptor`. */
export function encryptAttachmentStream(
  ctx: ProtocolContext,
  plaintext: AsyncIterable<Uint8Array>,
): AttachmentEncryptor {
  return new AttachmentEncryptor(ctx, plaintext);
}

/** Encrypts a small attachment held in memory; returns the blob with its pointer fields. */
export async function encryptAttachment(
  ctx: ProtocolContext,
  plaintext: Uint8Array,
): Promise<EncryptedAttachment & { blob: Uint8Array }> {
  expectBytes(plaintext, undefined, "plaintext");
  const encryptor = new AttachmentEncryptor(ctx, once(plaintext));
  const parts: Uint8Array[] = [];
  for await (const part of encryptor) parts.push(part);
  const result = encryptor.result();
  const blob = new Uint8Array(result.blobSize);
  let at = 0;
  for (const part of parts) {
    blob.set(part, at);
    at += part.length;
  }
  return { ...result, blob };
}

async function* once(bytes: Uint8Array): AsyncIterable<Uint8Array> {
  yield bytes;
}

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { seededRng, testContext } from "../../tests/support/deterministic.ts";
import { concatBytes } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import type { Primitives } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import {
  ATTACHMENT_CHUNK_BYTES,
  ATTACHMENT_CIPHERTEXT_CHUNK_BYTES,
  attachmentBlobSize,
} from "./chunk-cipher.ts";
import { decryptAttachment, decryptAttachmentStream } from "./decrypt.ts";
import { encryptAttachment, encryptAttachmentStream } from "./encrypt.ts";
import { ATTACHMENT_MAX_PLAINTEXT_BYTES, attachmentPaddedSize } from "./padding.ts";

const native = await nativePrimitives();
if (!native) throw new Error("this runtime's WebCrypto lacks what the native path needs");
const PROVIDERS: Primitives[] = [native, noblePrimitives];
const CHUNK = ATTACHMENT_CHUNK_BYTES;
const SEALED = ATTACHMENT_CIPHERTEXT_CHUNK_BYTES;

/** Yields `bytes` cut at the given offsets (any order; duplicates and out-of-range ignored). */
async function* pieces(bytes: Uint8Array, cuts: number[] = []): AsyncIterable<Uint8Array> {
  const at = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  let start = 0;
  for (const end of [...at, bytes.length]) {
    yield bytes.slice(start, end);
    start = end;
  }
}

/** Reads a stream to its end or its first error: what was yielded, and the error. */
async function drain(stream: AsyncIterable<Uint8Array>) {
  const parts: Uint8Array[] = [];
  try {
    for await (const part of stream) parts.push(part);
    return { yielded: concatBytes(...parts), error: undefined as unknown };
  } catch (error) {
    return { yielded: concatBytes(...parts), error };
  }
}

/** Byte equality without hex-encoding large arrays (which dominates test time otherwise). */
function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.from(actual).equals(Buffer.from(expected))).toBe(true);
}

function expectDecryptFailed(error: unknown, detail = ""): void {
  expect(error).toBeInstanceOf(ParleyError);
  expect((error as ParleyError).code).toBe("decrypt_failed");
  expect((error as ParleyError).detail ?? "").toContain(detail);
}

const plaintextOf = (size: number, seed = "plaintext") => seededRng(`${seed} ${size}`)(size);

/** The sealed chunks of a blob, split at the chunk boundaries the format defines. */
function sealedChunks(blob: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0; at < blob.length; at += SEALED) out.push(blob.slice(at, at + SEALED));
  return out;
}

for (const prims of PROVIDERS) {
  describe(`attachment stream (${prims.name})`, () => {
    test("round trips at chunk edges, streamed in uneven pieces both ways", async () => {
      for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK]) {
        const plaintext = plaintextOf(size);
        const enc = encryptAttachmentStream(
          testContext(`edges ${size}`, prims),
          pieces(plaintext, [1, 7, CHUNK - 3, CHUNK + 5]),
        );
        const { yielded: blob, error } = await drain(enc);
        expect(error).toBeUndefined();
        const info = enc.result();
        expect(info.size).toBe(size);
        expect(info.paddedSize).toBe(attachmentPaddedSize(size));
        expect(info.blobSize).toBe(attachmentBlobSize(info.paddedSize));
        expect(blob.length).toBe(info.blobSize);
        const ctx = testContext("reader", prims);
        const back = await drain(
          decryptAttachmentStream(ctx, pieces(blob, [3, SEALED, SEALED + 1]), info),
        );
        expect(back.error).toBeUndefined();
        expectSameBytes(back.yielded, plaintext);
      }
    });

    test("random sizes and random input splits round trip", async () => {
      await fc.assert(
        fc.asyncProperty(
          // Mostly small sizes (fast), some spanning several chunks.
          fc.oneof(
            fc.integer({ min: 0, max: 2_000 }),
            fc.integer({ min: 0, max: 3 * CHUNK + 100 }),
          ),
          fc.array(fc.nat({ max: 3 * CHUNK + 100 }), { maxLength: 6 }),
          fc.array(fc.nat({ max: attachmentBlobSize(attachmentPaddedSize(3 * CHUNK + 100)) }), {
            maxLength: 6,
          }),
          async (size, cuts, blobCuts) => {
            const plaintext = plaintextOf(size, "random");
            const ctx = testContext(`random ${size}`, prims);
            const whole = await encryptAttachment(ctx, plaintext);
            // The blob does not depend on how the input was split.
            const enc = encryptAttachmentStream(
              testContext(`random ${size}`, prims),
              pieces(plaintext, cuts),
            );
            expectSameBytes((await drain(enc)).yielded, whole.blob);
            const back = await drain(
              decryptAttachmentStream(ctx, pieces(whole.blob, blobCuts), whole),
            );
            expect(back.error).toBeUndefined();
            expectSameBytes(back.yielded, plaintext);
          },
        ),
        { numRuns: 100 },
      );
    });
  });
}

describe("attachment stream: tampering is decrypt_failed, and no failed chunk is released", () => {
  const prims = native;
  // 3.5 chunks of data: padded to 4 chunks, so a padding-only tail exists too.
  const size = 3 * CHUNK + CHUNK / 2;
  const plaintext = plaintextOf(size, "tamper");
  const lastDataChunkStart = Math.floor((size - 1) / CHUNK) * CHUNK;
  const encrypted = encryptAttachment(testContext("tamper", prims), plaintext);

  async function open(
    blob: Uint8Array,
    changes: { key?: Uint8Array; digest?: Uint8Array; size?: number } = {},
  ) {
    const info = await encrypted;
    // Fed chunk by chunk, as a download would arrive.
    const cuts = Array.from({ length: Math.ceil(blob.length / SEALED) }, (_, i) => i * SEALED);
    const input = pieces(blob, cuts);
    return drain(decryptAttachmentStream(testContext("r", prims), input, { ...info, ...changes }));
  }

  /** A failed decryption released only an authentic prefix, never the file's last chunk. */
  function expectSafePrefix(yielded: Uint8Array, upTo = size) {
    expect(yielded.length).toBeLessThanOrEqual(Math.min(upTo, lastDataChunkStart));
    expectSameBytes(yielded, plaintext.subarray(0, yielded.length));
  }

  test("truncation: a missing final chunk, a cut inside a chunk, one byte short", async () => {
    const { blob } = await encrypted;
    const chunks = sealedChunks(blob);
    expect(chunks).toHaveLength(4);
    for (const cut of [
      concatBytes(...chunks.slice(0, 3)),
      blob.slice(0, SEALED + 100),
      blob.slice(0, -1),
      new Uint8Array(0),
    ]) {
      const { yielded, error } = await open(cut);
      expectDecryptFailed(error, "truncated");
      expectSafePrefix(yielded);
    }
  });

  test("reordered or duplicated chunks fail at the first chunk out of place", async () => {
    const [c0, c1, c2, c3] = sealedChunks((await encrypted).blob) as [
      Uint8Array,
      Uint8Array,
      Uint8Array,
      Uint8Array,
    ];
    for (const [order, firstBad] of [
      [[c1, c0, c2, c3], 0],
      [[c0, c2, c1, c3], 1],
      [[c0, c0, c2, c3], 1],
      [[c0, c1, c1, c2, c3], 2],
    ] as [Uint8Array[], number][]) {
      const { yielded, error } = await open(concatBytes(...order));
      expectDecryptFailed(error, `chunk ${firstBad}`);
      expectSafePrefix(yielded, firstBad * CHUNK);
    }
  });

  test("extra bytes after the final chunk", async () => {
    const { blob } = await encrypted;
    for (const extra of [Uint8Array.of(0), sealedChunks(blob)[0]!]) {
      const { yielded, error } = await open(concatBytes(blob, extra));
      expectDecryptFailed(error, "extra data");
      expectSafePrefix(yielded);
    }
  });

  test("a wrong key, digest or size", async () => {
    const info = await encrypted;
    const wrongDigest = info.digest.slice();
    wrongDigest[0]! ^= 1;
    const cases: [Parameters<typeof open>[1], string][] = [
      [{ key: seededRng("other key")(32) }, "chunk 0 does not authenticate"],
      [{ digest: wrongDigest }, "digest mismatch"],
      // Same bucket, so the same blob length: the size bound into the final chunk catches it.
      [{ size: size - 1 }, "chunk 3 (final) does not authenticate"],
      [{ size: size + 1 }, "chunk 3 (final) does not authenticate"],
      [{ size: 10 }, "extra data"],
      [{ size: 10 * CHUNK }, "truncated"],
    ];
    for (const [change, detail] of cases) {
      const { yielded, error } = await open(info.blob, change);
      expectDecryptFailed(error, detail);
      expectSafePrefix(yielded);
    }
    // A wrong digest is found only at the end: every chunk but the last data chunk was released.
    expect((await open(info.blob, { digest: wrongDigest })).yielded.length).toBe(
      lastDataChunkStart,
    );
  });

  test("a flipped bit anywhere in the blob (property)", async () => {
    const { blob } = await encrypted;
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: blob.length - 1 }), fc.nat({ max: 7 }), async (at, bit) => {
        const tampered = blob.slice();
        tampered[at]! ^= 1 << bit;
        const { yielded, error } = await open(tampered);
        expectDecryptFailed(error, `chunk ${Math.floor(at / SEALED)}`);
        expectSafePrefix(yielded, Math.floor(at / SEALED) * CHUNK);
      }),
      { numRuns: 150 },
    );
  });

  test("bad parameters are refused at the call, before any input is read", () => {
    const never: AsyncIterable<Uint8Array> = {
      [Symbol.asyncIterator]: () => {
        throw new Error("read");
      },
    };
    const ctx = testContext("params", prims);
    const ok = { key: new Uint8Array(32), digest: new Uint8Array(32), size: 1 };
    const call = (p: typeof ok) => () => decryptAttachmentStream(ctx, never, p);
    expect(call({ ...ok, key: new Uint8Array(16) })).toThrow("'key' must be 32 bytes");
    expect(call({ ...ok, digest: new Uint8Array(31) })).toThrow("'digest' must be 32 bytes");
    expect(call({ ...ok, size: ATTACHMENT_MAX_PLAINTEXT_BYTES + 1 })).toThrow(ParleyError);
  });
});

describe("attachment stream: one blob format", () => {
  test("native and noble give identical blobs, keys and digests for the same rng", async () => {
    for (const size of [0, 100, CHUNK, 2 * CHUNK + 3]) {
      const plaintext = plaintextOf(size, "cross");
      const a = await encryptAttachment(testContext("cross", native), plaintext);
      const b = await encryptAttachment(testContext("cross", noblePrimitives), plaintext);
      expectSameBytes(a.blob, b.blob);
      expectSameBytes(a.digest, b.digest);
      // And each opens what the other sealed.
      expectSameBytes(
        await decryptAttachment(testContext("x", noblePrimitives), a.blob, a),
        plaintext,
      );
      expectSameBytes(await decryptAttachment(testContext("x", native), b.blob, b), plaintext);
    }
  });

  test("the encryptor can be read once, and its result only after the end", async () => {
    const enc = encryptAttachmentStream(testContext("once", native), pieces(new Uint8Array(10)));
    expect(() => enc.result()).toThrow("read the whole blob");
    await drain(enc);
    expect(enc.result().size).toBe(10);
    expect((await drain(enc)).error).toBeInstanceOf(Error);
  });

  test("input over the maximum is limit_exceeded", async () => {
    async function* huge() {
      yield new Uint8Array(CHUNK);
      yield new Uint8Array(ATTACHMENT_MAX_PLAINTEXT_BYTES); // refused before it is encrypted
    }
    const { error } = await drain(encryptAttachmentStream(testContext("huge", native), huge()));
    expect((error as ParleyError).code).toBe("limit_exceeded");
  });
});

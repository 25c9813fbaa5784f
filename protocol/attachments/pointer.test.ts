import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { seededRng } from "../../tests/support/deterministic.ts";
import { concatBytes, toHex } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import { WireType, WireWriter } from "../wire/codec.ts";
import { ATTACHMENT_MAX_PLAINTEXT_BYTES } from "./padding.ts";
import {
  ATTACHMENT_MAX_BLOB_ID_BYTES,
  ATTACHMENT_MAX_DIMENSION_PX,
  ATTACHMENT_MAX_DURATION_MS,
  ATTACHMENT_MAX_FILE_NAME_BYTES,
  ATTACHMENT_MAX_MIME_TYPE_BYTES,
  type AttachmentPointer,
  decodeAttachmentPointer,
  encodeAttachmentPointer,
} from "./pointer.ts";

const rng = seededRng("attachment pointer");

const minimal: AttachmentPointer = {
  blobId: "b",
  key: rng(32),
  digest: rng(32),
  size: 0,
  mimeType: "",
  fileName: "",
};

const full: AttachmentPointer = {
  blobId: "0194f2a0-7c3e-7a41-9b2d-5e8f1c6a3d70",
  key: rng(32),
  digest: rng(32),
  size: 3_000_000,
  mimeType: "video/mp4",
  fileName: "Vidéo de l’été.mp4",
  width: 1920,
  height: 1080,
  durationMs: 61_500,
  thumbnail: {
    blobId: "0194f2a0-7c3e-7a41-9b2d-5e8f1c6a3d71",
    key: rng(32),
    digest: rng(32),
    size: 12_345,
    mimeType: "image/jpeg",
  },
};

function expectCode(run: () => unknown, code: ParleyError["code"], field?: string): void {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ParleyError);
    expect((err as ParleyError).code).toBe(code);
    if (field) expect((err as ParleyError).field).toBe(field);
    return;
  }
  throw new Error(`expected ${code}`);
}

const arbRef = {
  blobId: fc.string({ minLength: 1, maxLength: 40 }),
  key: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  digest: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  size: fc.integer({ min: 0, max: ATTACHMENT_MAX_PLAINTEXT_BYTES }),
  mimeType: fc.string({ maxLength: 40 }),
};
const arbPointer: fc.Arbitrary<AttachmentPointer> = fc.record(
  {
    ...arbRef,
    fileName: fc.string({ unit: "grapheme", maxLength: 20 }),
    width: fc.integer({ min: 0, max: ATTACHMENT_MAX_DIMENSION_PX }),
    height: fc.integer({ min: 0, max: ATTACHMENT_MAX_DIMENSION_PX }),
    durationMs: fc.integer({ min: 0, max: ATTACHMENT_MAX_DURATION_MS }),
    thumbnail: fc.record(arbRef),
  },
  { requiredKeys: ["blobId", "key", "digest", "size", "mimeType", "fileName"] },
);

describe("attachment pointer", () => {
  test("round trips, minimal and full", () => {
    for (const pointer of [minimal, full]) {
      expect(decodeAttachmentPointer(encodeAttachmentPointer(pointer))).toEqual(pointer);
    }
    // Absent optional fields stay absent (not present as undefined).
    expect(Object.keys(decodeAttachmentPointer(encodeAttachmentPointer(minimal))).sort()).toEqual(
      Object.keys(minimal).sort(),
    );
  });

  test("the minimal layout, byte by byte", () => {
    // version, type, blobId "b", key, digest, size 0, mimeType "", fileName "", 4 absent flags.
    const expected = `010e 0162 ${toHex(minimal.key)} ${toHex(minimal.digest)} 00 00 00 00000000`;
    expect(toHex(encodeAttachmentPointer(minimal))).toBe(expected.replaceAll(" ", ""));
  });

  test("random pointers round trip (property)", () => {
    fc.assert(
      fc.property(arbPointer, (pointer) => {
        const decoded = decodeAttachmentPointer(encodeAttachmentPointer(pointer));
        expect(decoded).toEqual(pointer);
      }),
      { numRuns: 300 },
    );
  });

  test("every truncation and every extension is malformed_message", () => {
    for (const pointer of [minimal, full]) {
      const encoded = encodeAttachmentPointer(pointer);
      for (let n = 0; n < encoded.length; n++) {
        expectCode(() => decodeAttachmentPointer(encoded.slice(0, n)), "malformed_message");
      }
      for (const extra of [0x00, 0x01, 0xff]) {
        const longer = concatBytes(encoded, Uint8Array.of(extra));
        expectCode(() => decodeAttachmentPointer(longer), "malformed_message");
      }
    }
  });

  test("random bytes and random mutations only ever give malformed_message", () => {
    const encoded = encodeAttachmentPointer(full);
    fc.assert(
      fc.property(
        fc.nat({ max: encoded.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.uint8Array({ maxLength: 200 }),
        (at, xor, noise) => {
          const mutated = encoded.slice();
          mutated[at]! ^= xor;
          for (const input of [mutated, noise, concatBytes(Uint8Array.of(1, 0x0e), noise)]) {
            try {
              decodeAttachmentPointer(input);
            } catch (err) {
              expect((err as ParleyError).code).toBe("malformed_message");
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  test("the decoder enforces limits, booleans and a non-empty blob id", () => {
    // Hand-written encodings, each valid but for one field.
    const write = (o: { blobId?: string; size?: number; fileName?: number; width?: number }) => {
      const w = new WireWriter(WireType.attachmentPointer)
        .string(o.blobId ?? "b", 1_000, "blobId")
        .fixed(minimal.key, 32, "key")
        .fixed(minimal.digest, 32, "digest")
        .varint(o.size ?? 0)
        .string("", 1_000, "mimeType")
        .bytes(new Uint8Array(o.fileName ?? 0).fill(0x61), 1_000, "fileName");
      if (o.width === undefined) w.bool(false);
      else w.bool(true).varint(o.width);
      return w.bool(false).bool(false).bool(false).finish();
    };
    expect(decodeAttachmentPointer(write({ fileName: 255, width: 7 })).width).toBe(7);
    for (const bad of [
      write({ blobId: "" }),
      write({ blobId: "x".repeat(ATTACHMENT_MAX_BLOB_ID_BYTES + 1) }),
      write({ size: ATTACHMENT_MAX_PLAINTEXT_BYTES + 1 }),
      write({ fileName: ATTACHMENT_MAX_FILE_NAME_BYTES + 1 }),
      write({ width: ATTACHMENT_MAX_DIMENSION_PX + 1 }),
    ]) {
      expectCode(() => decodeAttachmentPointer(bad), "malformed_message");
    }
    const flag = encodeAttachmentPointer(minimal);
    flag[flag.length - 1] = 2; // a presence flag that is neither 0 nor 1
    expectCode(() => decodeAttachmentPointer(flag), "malformed_message");
  });

  test("the encoder names the field over its limit", () => {
    const long = (n: number) => "x".repeat(n + 1);
    const cases: [Partial<AttachmentPointer>, ParleyError["code"], string][] = [
      [{ blobId: long(ATTACHMENT_MAX_BLOB_ID_BYTES) }, "limit_exceeded", "blobId"],
      [{ blobId: "" }, "invalid_request", "blobId"],
      [{ mimeType: long(ATTACHMENT_MAX_MIME_TYPE_BYTES) }, "limit_exceeded", "mimeType"],
      [{ fileName: long(ATTACHMENT_MAX_FILE_NAME_BYTES) }, "limit_exceeded", "fileName"],
      [{ size: ATTACHMENT_MAX_PLAINTEXT_BYTES + 1 }, "limit_exceeded", "size"],
      [{ width: ATTACHMENT_MAX_DIMENSION_PX + 1 }, "limit_exceeded", "width"],
      [{ durationMs: ATTACHMENT_MAX_DURATION_MS + 1 }, "limit_exceeded", "durationMs"],
      [{ key: new Uint8Array(16) }, "invalid_key", "key"],
      [
        { thumbnail: { ...full.thumbnail!, digest: new Uint8Array(31) } },
        "invalid_key",
        "thumbnail.digest",
      ],
    ];
    for (const [change, code, field] of cases) {
      expectCode(() => encodeAttachmentPointer({ ...full, ...change }), code, field);
    }
    // A multi-byte name is measured in UTF-8 bytes, not characters.
    const accents = "é".repeat(128); // 256 bytes
    expectCode(() => encodeAttachmentPointer({ ...full, fileName: accents }), "limit_exceeded");
  });
});

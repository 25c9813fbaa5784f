import { expectBytes, utf8 } from "../crypto/bytes.ts";
import { SHA256_BYTES } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { ATTACHMENT_KEY_BYTES } from "./chunk-cipher.ts";
import { ATTACHMENT_MAX_PLAINTEXT_BYTES, checkAttachmentSize } from "./padding.ts";

/** Longest blob id, in UTF-8 bytes (the server assigns them). */
export const ATTACHMENT_MAX_BLOB_ID_BYTES = 128;
/** Longest MIME type, in UTF-8 bytes (RFC 6838 allows 127 + "/" + 127). */
export const ATTACHMENT_MAX_MIME_TYPE_BYTES = 255;
/** Longest file name, in UTF-8 bytes (the common file-system limit). */
export const ATTACHMENT_MAX_FILE_NAME_BYTES = 255;
/** Largest width or height in pixels: a sanity bound well above any image a client shows. */
export const ATTACHMENT_MAX_DIMENSION_PX = 1 << 20;
/** Longest duration of audio or video: a week, in milliseconds. */
export const ATTACHMENT_MAX_DURATION_MS = 7 * 24 * 60 * 60 * 1000;

/** An encrypted blob and what is needed to fetch, check and decrypt it. */
export interface AttachmentBlobRef {
  /** The server's id of the uploaded blob (1 to 128 bytes). */
  blobId: string;
  /** The attachment key, 32 bytes. */
  key: Uint8Array;
  /** SHA-256 of the blob, 32 bytes. */
  digest: Uint8Array;
  /** Plaintext bytes before padding. */
  size: number;
  /** The plaintext's MIME type (may be empty when unknown). */
  mimeType: string;
}

/**
 * What a message carries about one attachment, inside its ciphertext: the blob reference,
 * display hints, and an optional thumbnail (itself a separately encrypted blob).
 */
export interface AttachmentPointer extends AttachmentBlobRef {
  /** The original file name; may be empty. */
  fileName: string;
  width?: number;
  height?: number;
  durationMs?: number;
  thumbnail?: AttachmentBlobRef;
}

/**
 * Encodes a pointer:
 *   0x01 ‖ 0x0e (WireType.attachmentPointer) ‖ blob ref ‖ string fileName ‖
 *   optional varint width ‖ optional varint height ‖ optional varint durationMs ‖
 *   optional blob ref thumbnail
 * where blob ref = string blobId ‖ fixed(32) key ‖ fixed(32) digest ‖ varint size ‖
 * string mimeType, and each optional field is a bool (0x00 absent, 0x01 present) followed,
 * when present, by the value. Throws, naming the field: `limit_exceeded` for a value over its
 * limit, `invalid_key` for a key or digest of the wrong length, `invalid_request` for an
 * empty blob id or a text field that is not a string; a size, dimension or duration that is
 * not a non-negative integer is a `RangeError` (a programming error, not bad input).
 */
export function encodeAttachmentPointer(pointer: AttachmentPointer): Uint8Array {
  const w = new WireWriter(WireType.attachmentPointer);
  writeBlobRef(w, pointer, "");
  const fileName = checkText(pointer.fileName, ATTACHMENT_MAX_FILE_NAME_BYTES, "fileName");
  w.string(fileName, ATTACHMENT_MAX_FILE_NAME_BYTES, "fileName");
  writeOptional(w, pointer.width, ATTACHMENT_MAX_DIMENSION_PX, "width");
  writeOptional(w, pointer.height, ATTACHMENT_MAX_DIMENSION_PX, "height");
  writeOptional(w, pointer.durationMs, ATTACHMENT_MAX_DURATION_MS, "durationMs");
  w.bool(pointer.thumbnail !== undefined);
  if (pointer.thumbnail !== undefined) writeBlobRef(w, pointer.thumbnail, "thumbnail.");
  return w.finish();
}

/** Decodes a pointer; any failure is `malformed_message`. */
export function decodeAttachmentPointer(input: Uint8Array): AttachmentPointer {
  return decodeWith("attachment pointer", () => {
    const r = new WireReader(input, WireType.attachmentPointer, "attachment pointer");
    const pointer: AttachmentPointer = {
      ...readBlobRef(r),
      fileName: r.string(ATTACHMENT_MAX_FILE_NAME_BYTES, "fileName"),
    };
    if (r.bool("hasWidth")) pointer.width = r.varint("width", ATTACHMENT_MAX_DIMENSION_PX);
    if (r.bool("hasHeight")) pointer.height = r.varint("height", ATTACHMENT_MAX_DIMENSION_PX);
    if (r.bool("hasDurationMs")) {
      pointer.durationMs = r.varint("durationMs", ATTACHMENT_MAX_DURATION_MS);
    }
    if (r.bool("hasThumbnail")) pointer.thumbnail = readBlobRef(r);
    r.end();
    return pointer;
  });
}

function writeBlobRef(w: WireWriter, ref: AttachmentBlobRef, prefix: string): void {
  // Checked first, so bad input is a typed error naming the field, not a RangeError.
  const blobId = checkText(ref.blobId, ATTACHMENT_MAX_BLOB_ID_BYTES, `${prefix}blobId`);
  if (blobId.length === 0) {
    throw new ParleyError("invalid_request", `'${prefix}blobId' must not be empty`, {
      field: `${prefix}blobId`,
    });
  }
  const key = expectBytes(ref.key, ATTACHMENT_KEY_BYTES, `${prefix}key`);
  const digest = expectBytes(ref.digest, SHA256_BYTES, `${prefix}digest`);
  checkAttachmentSize(ref.size, `${prefix}size`);
  const mimeType = checkText(ref.mimeType, ATTACHMENT_MAX_MIME_TYPE_BYTES, `${prefix}mimeType`);
  w.string(blobId, ATTACHMENT_MAX_BLOB_ID_BYTES, "blobId")
    .fixed(key, ATTACHMENT_KEY_BYTES, "key")
    .fixed(digest, SHA256_BYTES, "digest")
    .varint(ref.size)
    .string(mimeType, ATTACHMENT_MAX_MIME_TYPE_BYTES, "mimeType");
}

function readBlobRef(r: WireReader): AttachmentBlobRef {
  const blobId = r.string(ATTACHMENT_MAX_BLOB_ID_BYTES, "blobId");
  if (blobId.length === 0) {
    throw new ParleyError("malformed_message", undefined, {
      detail: "attachment pointer: empty 'blobId'",
    });
  }
  return {
    blobId,
    key: r.fixed(ATTACHMENT_KEY_BYTES, "key"),
    digest: r.fixed(SHA256_BYTES, "digest"),
    size: r.varint("size", ATTACHMENT_MAX_PLAINTEXT_BYTES),
    mimeType: r.string(ATTACHMENT_MAX_MIME_TYPE_BYTES, "mimeType"),
  };
}

function writeOptional(w: WireWriter, value: number | undefined, max: number, field: string) {
  w.bool(value !== undefined);
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`'${field}' must be a non-negative integer`);
  }
  if (value > max) {
    throw new ParleyError("limit_exceeded", `'${field}' must be at most ${max}`, { field });
  }
  w.varint(value);
}

/** Returns `text` if it is a string of at most `max` UTF-8 bytes. */
function checkText(text: unknown, max: number, field: string): string {
  if (typeof text !== "string") {
    throw new ParleyError("invalid_request", `'${field}' must be a string`, { field });
  }
  if (utf8(text).length > max) {
    throw new ParleyError("limit_exceeded", `'${field}' must be at most ${max} bytes`, { field });
  }
  return text;
}

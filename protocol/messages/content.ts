import { ParleyError } from "../errors.ts";
import { padWithZeros, readZeroPadding } from "../profile/fields.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import {
  CONTENT_KINDS,
  type ContentCommon,
  checkSeconds,
  contentTypeOfKind,
  type KnownContent,
  type KnownContentType,
  MESSAGE_MAX_TIMER_SECONDS,
} from "./content-kinds.ts";
import { messageContentPaddedSize } from "./content-padding.ts";

export type {
  AttachmentContent,
  ContentCommon,
  DeleteContent,
  DisappearingTimerContent,
  EditContent,
  KnownContent,
  KnownContentType,
  ProfileKeyContent,
  ReactionContent,
  TextContent,
} from "./content-kinds.ts";

/**
 * Message content: the plaintext inside a conversation message's sender-key ciphertext
 * (protocol/groups/sender-key.ts encrypts bytes; these are the bytes):
 *   01 15 ‖ kind u8 ‖ sentAt varint ‖ hasExpiry bool ‖ [expiresInSeconds varint] ‖
 *   fields bytes (≤ 128 KiB; the kind's fields, content-kinds.ts) ‖ zero padding
 * padded to 160 bytes, or the attachment bucket above that (content-padding.ts), so the
 * ciphertext's length does not reveal the text's. The kind's fields carry their own length,
 * so a client reads the common fields of a kind it does not know — a newer client's content
 * is an `unknown` content for an older one (shown as "update to see this message", its
 * expiry still honoured), never an error.
 */

/** A content of a kind this version does not read, kept as its raw fields. */
export interface UnknownContent extends ContentCommon {
  type: "unknown";
  /** The kind byte (not one in `CONTENT_KINDS`). */
  kind: number;
  /** The kind's fields, undecoded. */
  fields: Uint8Array;
}

/** What a conversation message says: one of the known kinds, or an unknown one. */
export type MessageContent = KnownContent | UnknownContent;

/** Largest fields of one content, any kind; the largest known (a text) takes about 100 KiB. */
export const MESSAGE_CONTENT_FIELDS_MAX_BYTES = 131_072;

const WHAT = "message content";
const WRITER_PREFIX_BYTES = 2;

/**
 * Encodes and pads a content. Bad input throws, naming the field: `limit_exceeded` for a
 * value over its limit, `invalid_request` for an empty or control-character text, an id that
 * is not canonical, a user mentioned twice, an unknown `type`, an `unknown` content under a
 * known kind byte, or an `expiresInSeconds` of 0 (leave it out instead), `invalid_key` for a
 * profile key that is not 32 bytes; a `sentAt`, number of seconds or kind byte that is not a
 * non-negative integer is a `RangeError` (a programming error). A pointer is checked as
 * `encodeAttachmentPointer` checks it. `mentions: []` and `remove: false` encode as absent.
 */
export function encodeMessageContent(content: MessageContent): Uint8Array {
  if (typeof content !== "object" || content === null) {
    throw new ParleyError("invalid_request", "The message content must be an object.");
  }
  const { kind, fields } = encodeFields(content);
  if (!Number.isSafeInteger(content.sentAt) || content.sentAt < 0) {
    throw new RangeError("'sentAt' must be a non-negative integer");
  }
  const w = new WireWriter(WireType.messageContent)
    .u8(kind)
    .varint(content.sentAt)
    .bool(content.expiresInSeconds !== undefined);
  if (content.expiresInSeconds !== undefined) {
    w.varint(checkSeconds(content.expiresInSeconds, 1, "expiresInSeconds"));
  }
  const encoded = w.bytes(fields, MESSAGE_CONTENT_FIELDS_MAX_BYTES, "fields").finish();
  return padWithZeros(encoded, messageContentPaddedSize(encoded.length));
}

/**
 * Decodes a padded content; any failure is `malformed_message` — a known kind breaking its
 * layout or limits, and padding of another size than the encoder's or not all zeros, so each
 * content has exactly one encoding. An unknown kind decodes as an `unknown` content.
 */
export function decodeMessageContent(input: Uint8Array): MessageContent {
  return decodeWith(WHAT, () => {
    const r = new WireReader(input, WireType.messageContent, WHAT);
    const kind = r.u8("kind");
    const common: ContentCommon = { sentAt: r.varint("sentAt") };
    if (r.bool("hasExpiry")) {
      common.expiresInSeconds = r.varint("expiresInSeconds", MESSAGE_MAX_TIMER_SECONDS);
      if (common.expiresInSeconds === 0) throw malformed("'expiresInSeconds' is 0");
    }
    const length = r.varint("fieldsLength", MESSAGE_CONTENT_FIELDS_MAX_BYTES);
    if (length > r.remaining()) throw malformed("'fields' truncated");
    const type = contentTypeOfKind.get(kind);
    let content: MessageContent;
    if (type === undefined) {
      content = { type: "unknown", kind, ...common, fields: r.fixed(length, "fields") };
    } else {
      const end = r.remaining() - length;
      const fields = CONTENT_KINDS[type].read(r, WHAT);
      if (r.remaining() !== end) throw malformed(`'fields' of ${type} do not fill their length`);
      content = { type, ...common, ...fields } as KnownContent;
    }
    const contentBytes = input.length - r.remaining();
    if (input.length !== messageContentPaddedSize(contentBytes)) {
      throw malformed(`${contentBytes} bytes padded to ${input.length}`);
    }
    readZeroPadding(r, WHAT);
    return content;
  });
}

/** The kind byte and the encoded fields of `content`, checked. */
function encodeFields(content: MessageContent): { kind: number; fields: Uint8Array } {
  const w = new WireWriter(WireType.messageContent);
  let kind: number;
  if (content.type === "unknown") {
    kind = content.kind;
    if (!Number.isInteger(kind) || kind < 0 || kind > 255) {
      throw new RangeError("'kind' must be a byte");
    }
    if (contentTypeOfKind.has(kind)) {
      throw new ParleyError("invalid_request", `'kind' ${kind} is a known kind`, { field: "kind" });
    }
    if (!(content.fields instanceof Uint8Array)) {
      throw new ParleyError("invalid_request", "'fields' must be bytes", { field: "fields" });
    }
    w.fixed(content.fields, content.fields.length, "fields");
  } else {
    if (!Object.hasOwn(CONTENT_KINDS, content.type)) {
      throw new ParleyError("invalid_request", "'type' is not a message content type", {
        field: "type",
      });
    }
    const codec = CONTENT_KINDS[content.type as KnownContentType];
    kind = codec.kind;
    (codec.write as (w: WireWriter, c: KnownContent) => void)(w, content);
  }
  // A WireWriter starts every object with its version and type bytes; the fields follow.
  const fields = w.finish().subarray(WRITER_PREFIX_BYTES);
  if (fields.length > MESSAGE_CONTENT_FIELDS_MAX_BYTES) {
    throw new ParleyError(
      "limit_exceeded",
      `The message content must be at most ${MESSAGE_CONTENT_FIELDS_MAX_BYTES} bytes.`,
      { field: "fields" },
    );
  }
  return { kind, fields };
}

function malformed(detail: string): ParleyError {
  return new ParleyError("malformed_message", undefined, { detail: `${WHAT}: ${detail}` });
}

import { describe, expect, test } from "bun:test";
import { type AttachmentPointer, encodeAttachmentPointer } from "../attachments/pointer.ts";
import { concatBytes, toHex, utf8 } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import { MAX_GROUP_PLAINTEXT_BYTES } from "../groups/sender-key-wire.ts";
import type { MessageId, UserId } from "../identity/ids.ts";
import { MAX_GROUP_MEMBERS } from "../identity/membership-rules.ts";
import { WireType, WireWriter } from "../wire/codec.ts";
import {
  decodeMessageContent,
  encodeMessageContent,
  MESSAGE_CONTENT_FIELDS_MAX_BYTES,
  type MessageContent,
} from "./content.ts";
import {
  CONTENT_KINDS,
  MESSAGE_MAX_MENTIONS,
  MESSAGE_MAX_TIMER_SECONDS,
  MESSAGE_POINTER_MAX_BYTES,
} from "./content-kinds.ts";
import { MESSAGE_CONTENT_MIN_PADDED_BYTES, messageContentPaddedSize } from "./content-padding.ts";
import { MESSAGE_BODY, REACTION_EMOJI } from "./message-text.ts";

const AT = 1_767_225_600_000;
const ALICE = "0190a0b0-0000-7000-8000-00000000a11c" as UserId;
const BOB = "0190a0b0-0000-7000-8000-000000000b0b" as UserId;
const MSG = "0190a0b0-0001-7000-8000-000000000001" as MessageId;
const userN = (i: number) => `0190a0b0-0000-7000-8000-${i.toString().padStart(12, "0")}` as UserId;

const pointer: AttachmentPointer = {
  blobId: "blob-1",
  key: new Uint8Array(32).fill(1),
  digest: new Uint8Array(32).fill(2),
  size: 48_000,
  mimeType: "image/jpeg",
  fileName: "cat.jpg",
  width: 640,
  height: 480,
};

/** One content of every known kind, with every optional field, and the bare form of each. */
const FULL: MessageContent[] = [
  {
    type: "text",
    body: "Down the rabbit hole 🐇\n\tsecond line",
    replyTo: MSG,
    mentions: [BOB, ALICE],
    sentAt: AT,
    expiresInSeconds: 3600,
  },
  { type: "text", body: "hi", sentAt: 0 },
  { type: "edit", target: MSG, body: "hi, corrected", sentAt: AT },
  { type: "delete", target: MSG, sentAt: AT, expiresInSeconds: 60 },
  { type: "reaction", target: MSG, emoji: "👍", sentAt: AT },
  { type: "reaction", target: MSG, emoji: "👨‍👩‍👧‍👦", remove: true, sentAt: AT },
  { type: "attachment", pointer, caption: "A cat\non a mat", sentAt: AT },
  { type: "attachment", pointer: { ...pointer, width: undefined, height: undefined }, sentAt: AT },
  { type: "profile-key", profileKey: new Uint8Array(32).fill(9), sentAt: AT },
  { type: "disappearing-timer", seconds: 0, sentAt: AT },
  { type: "disappearing-timer", seconds: MESSAGE_MAX_TIMER_SECONDS, sentAt: AT },
  { type: "unknown", kind: 200, fields: Uint8Array.of(1, 2, 3), sentAt: AT, expiresInSeconds: 5 },
];

/** The code of what `run` throws, or "none". */
function codeOf(run: () => unknown): string {
  try {
    run();
    return "none";
  } catch (err) {
    return err instanceof ParleyError ? err.code : (err as Error).name;
  }
}

/** A hand-built content: the frame around `fields`, padded as the encoder pads. */
function frame(kind: number, fields: Uint8Array, common = { sentAt: AT, expiry: -1 }) {
  const w = new WireWriter(WireType.messageContent).u8(kind).varint(common.sentAt);
  w.bool(common.expiry >= 0);
  if (common.expiry >= 0) w.varint(common.expiry);
  const encoded = w.bytes(fields, MESSAGE_CONTENT_FIELDS_MAX_BYTES, "fields").finish();
  const out = new Uint8Array(messageContentPaddedSize(encoded.length));
  out.set(encoded);
  return out;
}

/** Fields written with the codec's primitives, without its checks. */
function fieldsOf(write: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter(WireType.messageContent);
  write(w);
  return w.finish().subarray(2);
}

describe("message content", () => {
  test("every kind round trips; optional fields absent stay absent", () => {
    for (const content of FULL) {
      const bytes = encodeMessageContent(content);
      // Absent, not present as undefined: a second encoding is byte-identical.
      const decoded = decodeMessageContent(bytes);
      if (content.type === "attachment" && content.pointer.width === undefined) {
        expect(decoded).toEqual(content);
      } else {
        expect(decoded).toStrictEqual(content);
      }
      expect(toHex(encodeMessageContent(decoded))).toBe(toHex(bytes));
    }
    expect(new Set(FULL.map((c) => c.type)).size).toBe(Object.keys(CONTENT_KINDS).length + 1);
  });

  test("empty mentions and remove: false encode as absent", () => {
    const text = encodeMessageContent({ type: "text", body: "x", mentions: [], sentAt: AT });
    expect(decodeMessageContent(text)).toStrictEqual({ type: "text", body: "x", sentAt: AT });
    const reaction = { type: "reaction", target: MSG, emoji: "👍", sentAt: AT } as const;
    const bytes = encodeMessageContent({ ...reaction, remove: false });
    expect(decodeMessageContent(bytes)).toStrictEqual(reaction);
  });

  test("the implementation writes exactly the documented layout", () => {
    // Written out independently from docs/PROTOCOL.md §13.
    const sentAt = [0x80, 0xd0, 0xea, 0xb6, 0xb7, 0x33]; // 1,767,225,600,000 as LEB128
    const text = Uint8Array.of(
      ...[0x01, 0x15, 0x01, ...sentAt, 0x01, 0x3c], // text, sentAt, expires in 60 s
      ...[3 + 1 + 37 + 1 + 37, 2, ...utf8("hi"), 0x01, 36, ...utf8(MSG), 0x01, 36, ...utf8(BOB)],
    );
    const expected = new Uint8Array(160);
    expected.set(text);
    const content: MessageContent = {
      type: "text",
      body: "hi",
      replyTo: MSG,
      mentions: [BOB],
      sentAt: AT,
      expiresInSeconds: 60,
    };
    expect(toHex(encodeMessageContent(content))).toBe(toHex(expected));

    const reaction = new Uint8Array(160);
    reaction.set([0x01, 0x15, 0x04, ...sentAt, 0x00, 37 + 5 + 1, 36, ...utf8(MSG)]);
    reaction.set([4, ...utf8("👍"), 0x01], 2 + 1 + 6 + 1 + 1 + 37);
    const undo = { type: "reaction", target: MSG, emoji: "👍", remove: true, sentAt: AT } as const;
    expect(toHex(encodeMessageContent(undo))).toBe(toHex(reaction));

    const key = new Uint8Array(32).fill(0xaa);
    const profileKey = new Uint8Array(160);
    profileKey.set([0x01, 0x15, 0x06, 0x00, 0x00, 32, ...key]);
    expect(toHex(encodeMessageContent({ type: "profile-key", profileKey: key, sentAt: 0 }))).toBe(
      toHex(profileKey),
    );

    const timer = new Uint8Array(160);
    timer.set([0x01, 0x15, 0x07, 0x00, 0x00, 3, 0x80, 0xa3, 0x05]); // 86,400 s
    const day = { type: "disappearing-timer", seconds: 86_400, sentAt: 0 } as const;
    expect(toHex(encodeMessageContent(day))).toBe(toHex(timer));

    const encodedPointer = encodeAttachmentPointer(pointer);
    expect(encodedPointer.length).toBe(103);
    const attachment = concatBytes(
      Uint8Array.of(0x01, 0x15, 0x05, 0x00, 0x00, 1 + 103 + 1, 103),
      encodedPointer,
      Uint8Array.of(0x00), // no caption
    );
    const padded = new Uint8Array(160);
    padded.set(attachment);
    expect(toHex(encodeMessageContent({ type: "attachment", pointer, sentAt: 0 }))).toBe(
      toHex(padded),
    );
  });
});

describe("padding", () => {
  test("contents of up to 160 bytes pad to 160, then to the attachment buckets", () => {
    expect(messageContentPaddedSize(0)).toBe(MESSAGE_CONTENT_MIN_PADDED_BYTES);
    expect(messageContentPaddedSize(160)).toBe(160);
    expect(messageContentPaddedSize(161)).toBe(541);
    expect(messageContentPaddedSize(541)).toBe(541);
    expect(messageContentPaddedSize(542)).toBe(568);
  });

  test("texts of different lengths in one bucket give equal lengths", () => {
    const length = (body: string) =>
      encodeMessageContent({ type: "text", body, sentAt: AT }).length;
    // Every text up to 144 bytes (and any reply to it up to 107) is 160 bytes.
    const short = new Set<number>();
    for (let n = 1; n <= 144; n++) short.add(length("a".repeat(n)));
    for (let n = 1; n <= 107; n++) {
      short.add(
        encodeMessageContent({ type: "text", body: "a".repeat(n), replyTo: MSG, sentAt: AT })
          .length,
      );
    }
    expect([...short]).toEqual([160]);
    const medium = new Set<number>();
    for (let n = 145; n <= 525; n++) medium.add(length("a".repeat(n)));
    expect([...medium]).toEqual([541]);
    // Further up, steps of about 5 %: 5,000 texts of distinct lengths take 48 sizes, each
    // a bucket (a fixed point of the padding), the next about 5 % above the one before (floors make it up to 5.04 %).
    const sizes = [...new Set(Array.from({ length: 5000 }, (_, n) => length("a".repeat(n + 1))))];
    expect(sizes.length).toBe(48);
    for (const [i, size] of sizes.entries()) {
      expect(messageContentPaddedSize(size)).toBe(size);
      if (i > 1) expect(size / sizes[i - 1]!).toBeLessThan(1.051);
    }
  });

  test("every non-text kind small enough lands in the first bucket", () => {
    // The first text (a reply mentioning two users) is 165 bytes: the next bucket.
    for (const content of FULL.filter((c) => c.type !== "attachment" && c !== FULL[0])) {
      expect([content.type, encodeMessageContent(content).length]).toEqual([content.type, 160]);
    }
  });

  test("the largest content still fits a sender-key message", () => {
    const mentions = Array.from({ length: MESSAGE_MAX_MENTIONS }, (_, i) => userN(i));
    const bytes = encodeMessageContent({
      type: "text",
      body: "🐇".repeat(MESSAGE_BODY.maxBytes / 4),
      replyTo: MSG,
      mentions,
      sentAt: Number.MAX_SAFE_INTEGER,
      expiresInSeconds: MESSAGE_MAX_TIMER_SECONDS,
    });
    expect(bytes.length).toBe(messageContentPaddedSize(bytes.length));
    expect(bytes.length).toBeLessThan(MESSAGE_CONTENT_FIELDS_MAX_BYTES);
    expect(bytes.length).toBeLessThan(MAX_GROUP_PLAINTEXT_BYTES);
    expect(MESSAGE_MAX_MENTIONS).toBe(MAX_GROUP_MEMBERS);
    expect(decodeMessageContent(bytes)).toMatchObject({ mentions });
  });
});

describe("limits and bad input", () => {
  const text =
    (body: unknown, extra: object = {}) =>
    () =>
      encodeMessageContent({ type: "text", body, sentAt: AT, ...extra } as MessageContent);
  const reaction = (emoji: unknown) => () =>
    encodeMessageContent({ type: "reaction", target: MSG, emoji, sentAt: AT } as MessageContent);

  test("a body takes up to 64 KiB of UTF-8, then limit_exceeded", () => {
    expect(codeOf(text("a".repeat(MESSAGE_BODY.maxBytes)))).toBe("none");
    expect(codeOf(text("🐇".repeat(MESSAGE_BODY.maxBytes / 4)))).toBe("none");
    expect(codeOf(text("a".repeat(MESSAGE_BODY.maxBytes + 1)))).toBe("limit_exceeded");
    expect(codeOf(text(`${"🐇".repeat(MESSAGE_BODY.maxBytes / 4 - 1)}aaaaa`))).toBe(
      "limit_exceeded",
    );
    const edit = { type: "edit", target: MSG, body: "a".repeat(65_537), sentAt: AT } as const;
    expect(codeOf(() => encodeMessageContent(edit))).toBe("limit_exceeded");
    const caption = "a".repeat(65_537);
    expect(
      codeOf(() => encodeMessageContent({ type: "attachment", pointer, caption, sentAt: AT })),
    ).toBe("limit_exceeded");
  });

  test("text rules: line feeds and tabs in a body, no other control characters", () => {
    expect(codeOf(text("line one\nline two\tend"))).toBe("none");
    for (const bad of ["", " ", "\n\n\t ", "a\rb", "a\u0000b", "a\u007fb", "a\u0085b", "\ud800x"]) {
      expect([bad, codeOf(text(bad))]).toEqual([bad, "invalid_request"]);
    }
    expect(codeOf(text(42))).toBe("invalid_request");
  });

  test("a reaction is one line of up to 64 bytes", () => {
    expect(codeOf(reaction("👩🏻‍❤️‍💋‍👨🏼"))).toBe("none"); // 35 bytes
    expect(codeOf(reaction("🏴󠁧󠁢󠁳󠁣󠁴󠁿"))).toBe("none"); // 28 bytes
    expect(codeOf(reaction("a".repeat(REACTION_EMOJI.maxBytes)))).toBe("none");
    expect(codeOf(reaction("a".repeat(REACTION_EMOJI.maxBytes + 1)))).toBe("limit_exceeded");
    for (const bad of ["", " ", "👍\n", "\t"]) {
      expect([bad, codeOf(reaction(bad))]).toEqual([bad, "invalid_request"]);
    }
  });

  test("ids must be canonical; mentions are distinct and bounded", () => {
    expect(codeOf(text("x", { replyTo: MSG.toUpperCase() }))).toBe("invalid_request");
    expect(codeOf(text("x", { mentions: ["alice"] }))).toBe("invalid_request");
    expect(codeOf(text("x", { mentions: [ALICE, BOB, ALICE] }))).toBe("invalid_request");
    expect(codeOf(text("x", { mentions: "alice" }))).toBe("invalid_request");
    const many = Array.from({ length: MESSAGE_MAX_MENTIONS + 1 }, (_, i) => userN(i));
    expect(codeOf(text("x", { mentions: many }))).toBe("limit_exceeded");
    expect(codeOf(text("x", { mentions: many.slice(1) }))).toBe("none");
    const target = "not-an-id";
    for (const type of ["delete", "edit", "reaction"]) {
      const c = { type, target, body: "x", emoji: "x", sentAt: AT } as unknown as MessageContent;
      expect([type, codeOf(() => encodeMessageContent(c))]).toEqual([type, "invalid_request"]);
    }
  });

  test("keys, timers, times and types", () => {
    const key = (profileKey: unknown) => () =>
      encodeMessageContent({ type: "profile-key", profileKey, sentAt: AT } as MessageContent);
    expect(codeOf(key(new Uint8Array(31)))).toBe("invalid_key");
    expect(codeOf(key("a key"))).toBe("invalid_key");
    const timer = (seconds: number) => () =>
      encodeMessageContent({ type: "disappearing-timer", seconds, sentAt: AT });
    expect(codeOf(timer(MESSAGE_MAX_TIMER_SECONDS + 1))).toBe("limit_exceeded");
    expect(codeOf(timer(-1))).toBe("RangeError");
    expect(codeOf(timer(1.5))).toBe("RangeError");
    expect(codeOf(text("x", { expiresInSeconds: 0 }))).toBe("invalid_request");
    expect(codeOf(text("x", { expiresInSeconds: MESSAGE_MAX_TIMER_SECONDS + 1 }))).toBe(
      "limit_exceeded",
    );
    expect(codeOf(text("x", { sentAt: -1 }))).toBe("RangeError");
    expect(codeOf(text("x", { sentAt: Number.NaN }))).toBe("RangeError");
    const typed = (content: unknown) => () => encodeMessageContent(content as MessageContent);
    expect(codeOf(typed({ type: "poll", sentAt: AT }))).toBe("invalid_request");
    expect(codeOf(typed({ type: "toString", sentAt: AT }))).toBe("invalid_request");
    expect(codeOf(typed(null))).toBe("invalid_request");
    // An unknown content may only use a kind this version does not know.
    const unknown = { type: "unknown", fields: new Uint8Array(0), sentAt: AT };
    expect(codeOf(typed({ ...unknown, kind: 1 }))).toBe("invalid_request");
    expect(codeOf(typed({ ...unknown, kind: 256 }))).toBe("RangeError");
    expect(codeOf(typed({ ...unknown, kind: 99, fields: [1] }))).toBe("invalid_request");
    const huge = { ...unknown, kind: 99, fields: new Uint8Array(MESSAGE_CONTENT_FIELDS_MAX_BYTES) };
    expect(codeOf(typed(huge))).toBe("none");
    huge.fields = new Uint8Array(MESSAGE_CONTENT_FIELDS_MAX_BYTES + 1);
    expect(codeOf(typed(huge))).toBe("limit_exceeded");
  });

  test("a pointer is checked as the pointer module checks it", () => {
    const bad = { ...pointer, key: new Uint8Array(3) };
    expect(
      codeOf(() => encodeMessageContent({ type: "attachment", pointer: bad, sentAt: AT })),
    ).toBe("invalid_key");
    // The largest pointer the pointer module writes fits the field with room to spare.
    const ref = {
      blobId: "b".repeat(128),
      key: new Uint8Array(32),
      digest: new Uint8Array(32),
      size: 100 * 1024 * 1024,
      mimeType: "m".repeat(255),
    };
    const largest = { ...ref, fileName: "f".repeat(255), width: 1 << 20, height: 1 << 20 };
    const full = { ...largest, durationMs: 7 * 24 * 3600 * 1000, thumbnail: ref };
    expect(encodeAttachmentPointer(full).length).toBeLessThan(MESSAGE_POINTER_MAX_BYTES);
  });
});

describe("decoding", () => {
  const valid = FULL.map(encodeMessageContent);

  test("every truncation, extension and non-zero padding byte is malformed_message", () => {
    for (const bytes of valid) {
      for (let n = 0; n < bytes.length; n++) {
        expect(codeOf(() => decodeMessageContent(bytes.subarray(0, n)))).toBe("malformed_message");
      }
      for (const extra of [[0], [1], new Array(400).fill(0)]) {
        const longer = Uint8Array.from([...bytes, ...extra]);
        expect(codeOf(() => decodeMessageContent(longer))).toBe("malformed_message");
      }
      const padding = bytes.slice();
      padding[padding.length - 1] = 1;
      expect(codeOf(() => decodeMessageContent(padding))).toBe("malformed_message");
    }
  });

  test("a content padded to another bucket than the encoder's is refused", () => {
    const short = encodeMessageContent({ type: "text", body: "hi", sentAt: AT });
    const wide = new Uint8Array(541);
    wide.set(short);
    expect(codeOf(() => decodeMessageContent(wide))).toBe("malformed_message");
    expect(codeOf(() => decodeMessageContent(short.subarray(0, 159)))).toBe("malformed_message");
  });

  test("authentic bytes breaking a kind's rules are malformed_message", () => {
    const cases: Record<string, Uint8Array> = {
      "carriage return": frame(
        1,
        fieldsOf((w) => w.string("a\rb", 65_536, "body").bool(false).varint(0)),
      ),
      "empty body": frame(
        1,
        fieldsOf((w) => w.string("", 65_536, "body").bool(false).varint(0)),
      ),
      "twice mentioned": frame(
        1,
        fieldsOf((w) => {
          w.string("a", 65_536, "body").bool(false).varint(2);
          w.string(BOB, 64, "m").string(BOB, 64, "m");
        }),
      ),
      "upper-case id": frame(
        3,
        fieldsOf((w) => w.string(MSG.toUpperCase(), 64, "target")),
      ),
      "fields longer than read": frame(
        3,
        fieldsOf((w) => w.string(MSG, 64, "target").u8(0)),
      ),
      "fields shorter than read": frame(
        3,
        fieldsOf((w) => w.string(MSG, 64, "target")).slice(0, 20),
      ),
      "multi-line emoji": frame(
        4,
        fieldsOf((w) => w.string(MSG, 64, "t").string("👍\n", 64, "e").bool(false)),
      ),
      "remove = 2": frame(
        4,
        fieldsOf((w) => w.string(MSG, 64, "t").string("👍", 64, "e").u8(2)),
      ),
      "bad pointer": frame(
        5,
        fieldsOf((w) => w.bytes(Uint8Array.of(1, 0x0e, 0), 2048, "p").u8(0)),
      ),
      "short profile key": frame(6, new Uint8Array(31)),
      "timer over a year": frame(
        7,
        fieldsOf((w) => w.varint(MESSAGE_MAX_TIMER_SECONDS + 1)),
      ),
      "expires in 0 s": frame(
        3,
        fieldsOf((w) => w.string(MSG, 64, "target")),
        {
          sentAt: AT,
          expiry: 0,
        },
      ),
      "expires after a year": frame(
        3,
        fieldsOf((w) => w.string(MSG, 64, "target")),
        {
          sentAt: AT,
          expiry: MESSAGE_MAX_TIMER_SECONDS + 1,
        },
      ),
    };
    for (const [name, bytes] of Object.entries(cases)) {
      expect([name, codeOf(() => decodeMessageContent(bytes))]).toEqual([
        name,
        "malformed_message",
      ]);
    }
    // The hand-built frame itself is right: the same fields well-formed decode.
    expect(
      decodeMessageContent(
        frame(
          3,
          fieldsOf((w) => w.string(MSG, 64, "target")),
        ),
      ),
    ).toEqual({
      type: "delete",
      target: MSG,
      sentAt: AT,
    });
  });

  test("another type byte, version or plain garbage is malformed_message", () => {
    const text = valid[0]!.slice();
    text[1] = WireType.profileContent;
    expect(codeOf(() => decodeMessageContent(text))).toBe("malformed_message");
    text[1] = WireType.messageContent;
    text[0] = 2;
    expect(codeOf(() => decodeMessageContent(text))).toBe("malformed_message");
    expect(codeOf(() => decodeMessageContent("01 15" as unknown as Uint8Array))).toBe(
      "malformed_message",
    );
  });

  test("a kind this version does not know decodes as unknown, common fields read", () => {
    // What a newer client might send: kind 42 with fields this version cannot parse.
    const future = frame(42, utf8("a poll: tea or coffee?"), { sentAt: AT, expiry: 86_400 });
    expect(decodeMessageContent(future)).toStrictEqual({
      type: "unknown",
      kind: 42,
      sentAt: AT,
      expiresInSeconds: 86_400,
      fields: utf8("a poll: tea or coffee?"),
    });
    for (const kind of [0, 8, 255]) {
      expect(decodeMessageContent(frame(kind, new Uint8Array(0)))).toMatchObject({
        type: "unknown",
        kind,
      });
    }
    // Still padded exactly and still bounded like every content.
    const wide = new Uint8Array(541);
    wide.set(future.subarray(0, 60));
    expect(codeOf(() => decodeMessageContent(wide))).toBe("malformed_message");
  });
});

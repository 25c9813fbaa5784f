// Property tests: any valid content round trips byte for byte, and no input makes the
// decoder throw anything but malformed_message.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import type { AttachmentBlobRef, AttachmentPointer } from "../attachments/pointer.ts";
import { toHex } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import type { MessageId, UserId } from "../identity/ids.ts";
import { decodeMessageContent, encodeMessageContent, type MessageContent } from "./content.ts";
import { contentTypeOfKind, MESSAGE_MAX_TIMER_SECONDS } from "./content-kinds.ts";
import { messageContentPaddedSize } from "./content-padding.ts";
import {
  MESSAGE_BODY,
  type MessageTextRule,
  messageTextProblem,
  REACTION_EMOJI,
} from "./message-text.ts";

const idArb = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .map((b) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(""))
  .map(
    (h) =>
      `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
  );
const messageIdArb = idArb.map((id) => id as MessageId);
const userIdArb = idArb.map((id) => id as UserId);

/** Texts following `rule`: graphemes (emoji, scripts), spaces, and line breaks where allowed. */
function textArb(rule: MessageTextRule, maxParts: number) {
  const part = fc.oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }),
    fc.constantFrom(" ", "🐇", "👨‍👩‍👧‍👦", "é", ...(rule.multiline ? ["\n", "\t"] : [])),
  );
  return fc
    .array(part, { minLength: 1, maxLength: maxParts })
    .map((parts) => parts.join(""))
    .filter((text) => messageTextProblem(text, rule) === undefined);
}

const bytesArb = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
const blobRefArb: fc.Arbitrary<AttachmentBlobRef> = fc.record({
  blobId: fc.string({ minLength: 1, maxLength: 40 }),
  key: bytesArb(32),
  digest: bytesArb(32),
  size: fc.nat({ max: 100 * 1024 * 1024 }),
  mimeType: fc.constantFrom("", "image/png", "video/mp4"),
});
const pointerArb: fc.Arbitrary<AttachmentPointer> = fc
  .record(
    {
      ref: blobRefArb,
      fileName: fc.string({ maxLength: 40 }),
      width: fc.nat({ max: 1 << 20 }),
      height: fc.nat({ max: 1 << 20 }),
      durationMs: fc.nat({ max: 7 * 24 * 3600 * 1000 }),
      thumbnail: blobRefArb,
    },
    { requiredKeys: ["ref", "fileName"] },
  )
  .map(({ ref, ...rest }) => ({ ...ref, ...rest }));

const commonArb = fc.record(
  {
    sentAt: fc.maxSafeNat(),
    expiresInSeconds: fc.integer({ min: 1, max: MESSAGE_MAX_TIMER_SECONDS }),
  },
  { requiredKeys: ["sentAt"] },
);

const kindArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record(
    {
      type: fc.constant("text"),
      body: textArb(MESSAGE_BODY, 60),
      replyTo: messageIdArb,
      mentions: fc.uniqueArray(userIdArb, { minLength: 1, maxLength: 5 }),
    },
    { requiredKeys: ["type", "body"] },
  ),
  fc.record({ type: fc.constant("edit"), target: messageIdArb, body: textArb(MESSAGE_BODY, 60) }),
  fc.record({ type: fc.constant("delete"), target: messageIdArb }),
  fc.record(
    {
      type: fc.constant("reaction"),
      target: messageIdArb,
      emoji: textArb(REACTION_EMOJI, 3),
      remove: fc.constant(true),
    },
    { requiredKeys: ["type", "target", "emoji"] },
  ),
  fc.record(
    { type: fc.constant("attachment"), pointer: pointerArb, caption: textArb(MESSAGE_BODY, 20) },
    { requiredKeys: ["type", "pointer"] },
  ),
  fc.record({ type: fc.constant("profile-key"), profileKey: bytesArb(32) }),
  fc.record({
    type: fc.constant("disappearing-timer"),
    seconds: fc.nat({ max: MESSAGE_MAX_TIMER_SECONDS }),
  }),
  fc.record({
    type: fc.constant("unknown"),
    kind: fc.nat({ max: 255 }).filter((k) => !contentTypeOfKind.has(k)),
    fields: fc.uint8Array({ maxLength: 600 }),
  }),
);
const contentArb = fc
  .tuple(commonArb, kindArb)
  .map(([common, fields]) => ({ ...common, ...fields }) as unknown as MessageContent);

function refusal(input: Uint8Array): string {
  try {
    decodeMessageContent(input);
    return "accepted";
  } catch (err) {
    return err instanceof ParleyError ? err.code : String(err);
  }
}

describe("message content properties", () => {
  test("random contents round trip, padded to their bucket, one encoding each", () => {
    fc.assert(
      fc.property(contentArb, (content) => {
        const bytes = encodeMessageContent(content);
        const decoded = decodeMessageContent(bytes);
        expect(decoded).toStrictEqual(content);
        expect(toHex(encodeMessageContent(decoded))).toBe(toHex(bytes));
        expect(messageContentPaddedSize(bytes.length)).toBe(bytes.length);
      }),
      { numRuns: 500 },
    );
  });

  test("random bytes, with or without a valid prefix, only ever throw malformed_message", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 700 }),
        fc.constantFrom(0, 1, 2, 3),
        fc.nat({ max: 255 }),
        (random, prefix, kind) => {
          const head = [[], [0x01], [0x01, 0x15], [0x01, 0x15, kind]][prefix]!;
          const code = refusal(Uint8Array.from([...head, ...random]));
          expect(code === "malformed_message" || code === "accepted").toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  test("mutations of valid contents only ever throw malformed_message", () => {
    fc.assert(
      fc.property(contentArb, fc.nat(), fc.nat({ max: 255 }), (content, at, value) => {
        const bytes = encodeMessageContent(content);
        const changed = bytes.slice();
        changed[at % bytes.length] = value;
        const code = refusal(changed);
        expect(code === "malformed_message" || code === "accepted").toBe(true);
        const cut = refusal(bytes.subarray(0, at % bytes.length));
        expect(cut).toBe("malformed_message");
      }),
      { numRuns: 500 },
    );
  });
});

import { describe, expect, test } from "bun:test";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { toHex, utf8 } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import { isCanonicalId, type UserId } from "../identity/ids.ts";
import {
  directConversationId,
  isDirectConversationId,
  isGroupConversationId,
} from "./conversation-id.ts";

const ALICE = "0190a0b0-0000-7000-8000-00000000a11c" as UserId;
const BOB = "0190a0b0-0000-7000-8000-000000000b0b" as UserId;
const CAROL = "0190a0b0-0000-7000-8000-0000000ca401" as UserId;

/** A canonical lowercase UUID from 16 random bytes (any version: user ids are opaque here). */
const userIdArb = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => {
  const h = toHex(b);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` as UserId;
});

function codeOf(run: () => unknown): string {
  try {
    run();
    return "none";
  } catch (err) {
    return err instanceof ParleyError ? err.code : (err as Error).name;
  }
}

describe("direct conversation ids", () => {
  test("known answer, written out from docs/PROTOCOL.md §13", () => {
    // Bob's id sorts first ("0…0b0b" < "0…a11c"); SHA-256 over label ‖ 00 ‖ smaller ‖ 00 ‖ larger.
    const hash = sha256(utf8(`Parley-v1 direct conversation\0${BOB}\0${ALICE}`));
    expect(toHex(hash.subarray(0, 16))).toBe("53356d6b3745c6706d97f400b6072380");
    // Version nibble c → 8, variant bits 01 → 10.
    expect<string>(directConversationId(ALICE, BOB)).toBe("53356d6b-3745-8670-ad97-f400b6072380");
  });

  test("the same for either order, a canonical UUIDv8 of the RFC 9562 variant", () => {
    fc.assert(
      fc.property(userIdArb, userIdArb, (a, b) => {
        fc.pre(a !== b);
        const id = directConversationId(a, b);
        expect(directConversationId(b, a)).toBe(id);
        expect(isCanonicalId(id)).toBe(true);
        expect(id[14]).toBe("8");
        expect("89ab").toContain(id[19]!);
        expect(isDirectConversationId(id, a, b)).toBe(true);
        expect(isDirectConversationId(id, b, a)).toBe(true);
        // Never mistaken for a group's id, so no group can squat on it.
        expect(isGroupConversationId(id)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  test("distinct pairs get distinct ids", () => {
    const pairs = [
      [ALICE, BOB],
      [ALICE, CAROL],
      [BOB, CAROL],
    ] as const;
    const ids = pairs.map(([a, b]) => directConversationId(a, b));
    expect(new Set(ids).size).toBe(3);
    expect(isDirectConversationId(ids[0], ALICE, CAROL)).toBe(false);
    expect(isDirectConversationId(ids[1], ALICE, BOB)).toBe(false);
    fc.assert(
      fc.property(fc.uniqueArray(userIdArb, { minLength: 3, maxLength: 3 }), ([a, b, c]) => {
        expect(directConversationId(a!, b!)).not.toBe(directConversationId(a!, c!));
        expect(directConversationId(a!, b!)).not.toBe(directConversationId(b!, c!));
      }),
      { numRuns: 200 },
    );
  });

  test("a user with themself, or a non-canonical id, is invalid_request", () => {
    expect(codeOf(() => directConversationId(ALICE, ALICE))).toBe("invalid_request");
    expect(codeOf(() => directConversationId(ALICE.toUpperCase() as UserId, BOB))).toBe(
      "invalid_request",
    );
    expect(codeOf(() => directConversationId(ALICE, "bob" as UserId))).toBe("invalid_request");
    // Upper case would be a second spelling of Alice: refused, not folded.
    expect(codeOf(() => directConversationId(ALICE, ALICE.toUpperCase() as UserId))).toBe(
      "invalid_request",
    );
  });

  test("isDirectConversationId is false, never a throw, for anything else", () => {
    const id = directConversationId(ALICE, BOB);
    expect(isDirectConversationId(id.toUpperCase(), ALICE, BOB)).toBe(false);
    expect(isDirectConversationId(id, ALICE, ALICE)).toBe(false);
    expect(isDirectConversationId(id, ALICE, "bob")).toBe(false);
    expect(isDirectConversationId(undefined, ALICE, BOB)).toBe(false);
    expect(isDirectConversationId(id, null, BOB)).toBe(false);
  });

  test("group ids are canonical UUIDv7s", () => {
    expect(isGroupConversationId("0190a0b0-1234-7abc-8def-0123456789ab")).toBe(true);
    expect(isGroupConversationId("0190a0b0-1234-7abc-bdef-0123456789ab")).toBe(true);
    expect(isGroupConversationId("0190A0B0-1234-7ABC-8DEF-0123456789AB")).toBe(false);
    expect(isGroupConversationId("0190a0b0-1234-4abc-8def-0123456789ab")).toBe(false);
    expect(isGroupConversationId("0190a0b0-1234-8abc-8def-0123456789ab")).toBe(false);
    expect(isGroupConversationId("0190a0b0-1234-7abc-cdef-0123456789ab")).toBe(false);
    expect(isGroupConversationId(42)).toBe(false);
  });
});

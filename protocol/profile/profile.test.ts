import { describe, expect, test } from "bun:test";
import { gcm } from "@noble/ciphers/aes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { testContext } from "../../tests/support/deterministic.ts";
import { attachmentPaddedSize } from "../attachments/padding.ts";
import { encodeAttachmentPointer } from "../attachments/pointer.ts";
import { concatBytes, toHex, utf8 } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import { ParleyError } from "../errors.ts";
import type { UserId } from "../identity/ids.ts";
import { WireType, WireWriter } from "../wire/codec.ts";
import { textProblem } from "./fields.ts";
import {
  decodeProfileContent,
  decryptProfile,
  encodeProfileContent,
  encryptProfile,
  PROFILE_AVATAR_MAX_BYTES,
  PROFILE_DISPLAY_NAME,
  PROFILE_STATUS,
  type ProfileContent,
} from "./profile.ts";
import { SEALED_OVERHEAD_BYTES, sealWithRandomNonce } from "./sealed.ts";

const native = (await nativePrimitives())!;
const ALICE = "0190a0b0-0000-7000-8000-00000000a11c" as UserId;
const BOB = "0190a0b0-0000-7000-8000-000000000b0b" as UserId;
const AT = 1_767_225_600_000;

const avatar = encodeAttachmentPointer({
  blobId: "avatar-blob",
  key: new Uint8Array(32).fill(7),
  digest: new Uint8Array(32).fill(9),
  size: 48_000,
  mimeType: "image/jpeg",
  fileName: "",
  width: 512,
  height: 512,
});
const profile: ProfileContent = {
  displayName: "Alice Liddell",
  status: "Down the rabbit hole 🐇",
  avatar,
  updatedAt: AT,
};

/** The code of what `run` throws (sync or async), or "none". */
async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return "none";
  } catch (err) {
    if (err instanceof ParleyError) return err.code;
    return (err as Error).name;
  }
}

describe("profile encryption", () => {
  test("round trips, across the native and noble implementations", async () => {
    for (const [seal, open] of [
      [native, noblePrimitives],
      [noblePrimitives, native],
    ] as const) {
      const key = testContext("profile key", seal).rng(32);
      const sealed = await encryptProfile(testContext("seal", seal), key, ALICE, profile);
      expect(await decryptProfile(testContext("open", open), key, ALICE, sealed)).toEqual(profile);
    }
    const bare = { displayName: "A", status: "", updatedAt: 0 };
    const key = testContext("bare").rng(32);
    const sealed = await encryptProfile(testContext("bare seal"), key, ALICE, bare);
    // Absent avatar stays absent, not present as undefined.
    expect(await decryptProfile(testContext("bare open"), key, ALICE, sealed)).toStrictEqual(bare);
  });

  test("the implementation writes exactly the documented layout", async () => {
    // Written out independently from docs/PROTOCOL.md, with @noble directly.
    const key = testContext("layout key").rng(32);
    const content = { displayName: "Alice", status: "hi", updatedAt: 300 };
    const sealed = await encryptProfile(testContext("layout", native), key, ALICE, content);
    const fields = Uint8Array.of(1, 0x12, 5, ...utf8("Alice"), 2, ...utf8("hi"), 0xac, 0x02, 0);
    const padded = new Uint8Array(541);
    padded.set(fields);
    const aesKey = hkdf(sha256, key, new Uint8Array(32), utf8("Parley-v1 profile"), 32);
    const nonce = testContext("layout").rng(12);
    const aad = concatBytes(Uint8Array.of(1), utf8(ALICE));
    const expected = concatBytes(Uint8Array.of(1), nonce, gcm(aesKey, nonce, aad).encrypt(padded));
    expect(toHex(sealed)).toBe(toHex(expected));
    expect(sealed.length).toBe(1 + 12 + 541 + 16);
  });

  test("each encryption takes a fresh random nonce", async () => {
    const ctx = testContext("nonces", native);
    const key = ctx.rng(32);
    const a = await encryptProfile(ctx, key, ALICE, profile);
    const b = await encryptProfile(ctx, key, ALICE, profile);
    expect(toHex(a.subarray(1, 13))).not.toBe(toHex(b.subarray(1, 13)));
    expect(await decryptProfile(ctx, key, ALICE, b)).toEqual(profile);
  });

  test("a wrong key, another user's id or any changed byte is decrypt_failed", async () => {
    const ctx = testContext("tamper", native);
    const key = ctx.rng(32);
    const sealed = await encryptProfile(ctx, key, ALICE, profile);
    expect(await codeOf(() => decryptProfile(ctx, ctx.rng(32), ALICE, sealed))).toBe(
      "decrypt_failed",
    );
    // A server moving Alice's ciphertext onto Bob's account.
    expect(await codeOf(() => decryptProfile(ctx, key, BOB, sealed))).toBe("decrypt_failed");
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i]! ^= 0x01;
      expect([i, await codeOf(() => decryptProfile(ctx, key, ALICE, changed))]).toEqual([
        i,
        "decrypt_failed",
      ]);
    }
    for (const cut of [0, 1, 13, 28, sealed.length - 1]) {
      expect(await codeOf(() => decryptProfile(ctx, key, ALICE, sealed.slice(0, cut)))).toBe(
        "decrypt_failed",
      );
    }
    const longer = concatBytes(sealed, Uint8Array.of(0));
    expect(await codeOf(() => decryptProfile(ctx, key, ALICE, longer))).toBe("decrypt_failed");
  });

  test("names of different lengths in one bucket give ciphertexts of one length", async () => {
    const ctx = testContext("buckets", native);
    const key = ctx.rng(32);
    const lengths = new Set<number>();
    for (const displayName of ["Al", "Alice", "Alexandra Wilhelmina", "x".repeat(64)]) {
      const sealed = await encryptProfile(ctx, key, ALICE, {
        displayName,
        status: "",
        updatedAt: AT,
      });
      lengths.add(sealed.length);
    }
    expect([...lengths]).toEqual([SEALED_OVERHEAD_BYTES + 541]);
  });

  test("over-long and invalid fields are refused, naming the field", async () => {
    const ctx = testContext("limits", native);
    const key = ctx.rng(32);
    const bad: [Partial<ProfileContent>, string, string][] = [
      [{ displayName: "x".repeat(65) }, "limit_exceeded", "displayName"],
      [{ displayName: "" }, "invalid_request", "displayName"],
      [{ displayName: "  \u3000" }, "invalid_request", "displayName"],
      [{ displayName: "Alice\nAdmin" }, "invalid_request", "displayName"],
      [{ displayName: "\ud800" }, "invalid_request", "displayName"],
      [{ displayName: 5 as unknown as string }, "invalid_request", "displayName"],
      [{ status: "s".repeat(141) }, "limit_exceeded", "status"],
      [{ status: "tab\there" }, "invalid_request", "status"],
      [{ avatar: new Uint8Array(PROFILE_AVATAR_MAX_BYTES + 1) }, "limit_exceeded", "avatar"],
      [{ avatar: new Uint8Array(0) }, "invalid_request", "avatar"],
    ];
    for (const [change, code, field] of bad) {
      const err = await encryptProfile(ctx, key, ALICE, { ...profile, ...change }).catch((e) => e);
      expect([field, err instanceof ParleyError && err.code, err.field]).toEqual([
        field,
        code,
        field,
      ]);
    }
    // The limits count characters, not bytes or UTF-16 units: 64 four-byte emoji fit.
    const emoji = { ...profile, displayName: "🐇".repeat(64), status: "界".repeat(140) };
    const sealed = await encryptProfile(ctx, key, ALICE, emoji);
    expect(await decryptProfile(ctx, key, ALICE, sealed)).toEqual(emoji);
    expect(await codeOf(() => encryptProfile(ctx, key.slice(1), ALICE, profile))).toBe(
      "invalid_key",
    );
    expect(await codeOf(() => encryptProfile(ctx, key, "Alice" as UserId, profile))).toBe(
      "invalid_request",
    );
    expect(await codeOf(() => encryptProfile(ctx, key, ALICE, { ...profile, updatedAt: -1 }))).toBe(
      "RangeError",
    );
  });

  test("an authentic plaintext that breaks the format is malformed_message", async () => {
    const ctx = testContext("malformed", native);
    const key = ctx.rng(32);
    const valid = encodeProfileContent(profile);
    const nonZeroPadding = valid.slice();
    nonZeroPadding[nonZeroPadding.length - 1] = 1;
    const longName = new WireWriter(WireType.profileContent)
      .string("x".repeat(65), 256, "displayName")
      .string("", 560, "status")
      .varint(AT)
      .bool(false)
      .finish();
    const plaintexts = {
      "non-zero padding": nonZeroPadding,
      "padded to another bucket": concatBytes(valid, new Uint8Array(100)),
      "not padded": valid.slice(0, 40),
      "name over the limit": concatBytes(longName, new Uint8Array(541 - longName.length)),
      "another type": concatBytes(Uint8Array.of(1, WireType.deviceName), valid.subarray(2)),
    };
    for (const [what, plaintext] of Object.entries(plaintexts)) {
      const sealed = await sealWithRandomNonce(ctx, "profile", key, plaintext, utf8(ALICE));
      expect([what, await codeOf(() => decryptProfile(ctx, key, ALICE, sealed))]).toEqual([
        what,
        "malformed_message",
      ]);
    }
  });
});

const arbText = (rule: { minChars: number; maxChars: number }) =>
  fc
    .string({ unit: "binary", minLength: rule.minChars, maxLength: rule.maxChars })
    .filter((s) => textProblem(s, rule) === undefined);

const arbProfile: fc.Arbitrary<ProfileContent> = fc.record(
  {
    displayName: arbText(PROFILE_DISPLAY_NAME),
    status: arbText(PROFILE_STATUS),
    avatar: fc.uint8Array({ minLength: 1, maxLength: PROFILE_AVATAR_MAX_BYTES }),
    updatedAt: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
  },
  { requiredKeys: ["displayName", "status", "updatedAt"] },
);

describe("profile properties", () => {
  test("any valid profile round trips; its length is a padding bucket; a flip is refused", async () => {
    const ctx = testContext("profile properties", native);
    const key = ctx.rng(32);
    await fc.assert(
      fc.asyncProperty(
        arbProfile,
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (content, at, mask) => {
          const sealed = await encryptProfile(ctx, key, ALICE, content);
          expect(await decryptProfile(ctx, key, ALICE, sealed)).toEqual(content);
          const padded = sealed.length - SEALED_OVERHEAD_BYTES;
          expect(attachmentPaddedSize(padded)).toBe(padded);
          const changed = sealed.slice();
          changed[at % changed.length]! ^= mask;
          expect(await codeOf(() => decryptProfile(ctx, key, ALICE, changed))).toBe(
            "decrypt_failed",
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the decoder refuses random bytes with malformed_message only", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        bytes[0] = 1;
        if (bytes.length > 1) bytes[1] = WireType.profileContent;
        try {
          decodeProfileContent(bytes);
        } catch (err) {
          expect(err instanceof ParleyError && err.code).toBe("malformed_message");
        }
      }),
      { numRuns: 1_000 },
    );
  });
});

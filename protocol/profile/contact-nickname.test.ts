import { describe, expect, test } from "bun:test";
import { gcm } from "@noble/ciphers/aes.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import fc from "fast-check";
import { testContext } from "../../tests/support/deterministic.ts";
import { concatBytes, toHex, utf8 } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import { ParleyError } from "../errors.ts";
import type { DeviceId, UserId } from "../identity/ids.ts";
import { type AccountSecretKey, generateAccountKey } from "../identity/keys.ts";
import { WireType, WireWriter } from "../wire/codec.ts";
import {
  CONTACT_NICKNAME,
  CONTACT_NICKNAME_PADDED_BYTES,
  CONTACT_NICKNAME_SEALED_BYTES,
  decodeContactNickname,
  decryptContactNickname,
  encryptContactNickname,
} from "./contact-nickname.ts";
import { encryptDeviceName } from "./device-name.ts";
import { textProblem } from "./fields.ts";
import { sealWithRandomNonce } from "./sealed.ts";

const native = (await nativePrimitives())!;
const ALICE = "0190a0b0-0000-7000-8000-00000000a11c" as UserId;
const BOB = "0190a0b0-0000-7000-8000-000000000b0b" as UserId;
const CAROL = "0190a0b0-0000-7000-8000-000000000ca1" as UserId;

const accountKey = async (seed: string) => (await generateAccountKey(testContext(seed))).secretKey;

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return "none";
  } catch (err) {
    return err instanceof ParleyError ? err.code : (err as Error).name;
  }
}

describe("contact nicknames", () => {
  test("round trip across implementations; every sealed nickname has one length", async () => {
    const key = await accountKey("account");
    for (const [seal, open] of [
      [native, noblePrimitives],
      [noblePrimitives, native],
    ] as const) {
      for (const nickname of ["B", "Bob from the climbing gym", "🐇".repeat(64)]) {
        const ctx = testContext(nickname, seal);
        const sealed = await encryptContactNickname(ctx, key, ALICE, BOB, nickname);
        expect(sealed.length).toBe(CONTACT_NICKNAME_SEALED_BYTES);
        expect(await decryptContactNickname(testContext("o", open), key, ALICE, BOB, sealed)).toBe(
          nickname,
        );
      }
    }
    // Well under the server's 1,024-byte bound on a nickname ciphertext.
    expect(CONTACT_NICKNAME_SEALED_BYTES).toBe(289);
  });

  test("the implementation writes exactly the documented layout", async () => {
    const key = await accountKey("layout");
    const ctx = testContext("layout", native);
    const sealed = await encryptContactNickname(ctx, key, ALICE, BOB, "Bo");
    const padded = new Uint8Array(260);
    padded.set([1, 0x14, 2, ...utf8("Bo")]);
    const aesKey = hkdf(sha256, key, new Uint8Array(32), utf8("Parley-v1 contact nickname"), 32);
    const nonce = testContext("layout").rng(12);
    const aad = concatBytes(Uint8Array.of(1), utf8(ALICE), utf8(BOB));
    const expected = concatBytes(Uint8Array.of(1), nonce, gcm(aesKey, nonce, aad).encrypt(padded));
    expect(toHex(sealed)).toBe(toHex(expected));
  });

  test("another account, owner or contact, or a changed byte, is decrypt_failed", async () => {
    const ctx = testContext("tamper", native);
    const key = await accountKey("account");
    const sealed = await encryptContactNickname(ctx, key, ALICE, BOB, "Bobby");
    const open = (k: AccountSecretKey, owner: UserId, contact: UserId, s: Uint8Array) =>
      codeOf(() => decryptContactNickname(ctx, k, owner, contact, s));
    expect(await open(key, ALICE, BOB, sealed)).toBe("none");
    expect(await open(await accountKey("other"), ALICE, BOB, sealed)).toBe("decrypt_failed");
    // A server moving the nickname onto another contact, or swapping owner and contact.
    expect(await open(key, ALICE, CAROL, sealed)).toBe("decrypt_failed");
    expect(await open(key, BOB, ALICE, sealed)).toBe("decrypt_failed");
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i]! ^= 0x80;
      expect([i, await open(key, ALICE, BOB, changed)]).toEqual([i, "decrypt_failed"]);
    }
    for (const cut of [0, 1, 13, 28, sealed.length - 1]) {
      expect(await open(key, ALICE, BOB, sealed.slice(0, cut))).toBe("decrypt_failed");
    }
    expect(await open(key, ALICE, BOB, concatBytes(sealed, Uint8Array.of(0)))).toBe(
      "decrypt_failed",
    );
  });

  test("a device name under the same key and ids does not open as a nickname", async () => {
    const ctx = testContext("domains", native);
    const key = await accountKey("account");
    // The same key and byte-identical binding: only the HKDF purpose tells them apart.
    const deviceName = await encryptDeviceName(ctx, key, ALICE, BOB as string as DeviceId, "Bob");
    expect(await codeOf(() => decryptContactNickname(ctx, key, ALICE, BOB, deviceName))).toBe(
      "decrypt_failed",
    );
  });

  test("bad nicknames and ids are refused; bad authentic content is malformed_message", async () => {
    const ctx = testContext("limits", native);
    const key = await accountKey("account");
    for (const [nickname, code] of [
      ["x".repeat(65), "limit_exceeded"],
      ["", "invalid_request"],
      [" \u3000", "invalid_request"],
      ["a\nb", "invalid_request"],
      ["\ud800", "invalid_request"],
      [5 as unknown as string, "invalid_request"],
    ] as const) {
      const err = await encryptContactNickname(ctx, key, ALICE, BOB, nickname).catch((e) => e);
      expect([nickname, err instanceof ParleyError && err.code, err.field]).toEqual([
        nickname,
        code,
        "nickname",
      ]);
    }
    const badId = await encryptContactNickname(ctx, key, ALICE, "bob" as UserId, "Bob").catch(
      (e) => e,
    );
    expect([badId.code, badId.field]).toEqual(["invalid_request", "contactId"]);
    expect(
      await codeOf(() =>
        encryptContactNickname(ctx, key.slice(1) as AccountSecretKey, ALICE, BOB, "Bob"),
      ),
    ).toBe("invalid_key");

    const ids = concatBytes(utf8(ALICE), utf8(BOB));
    const good = new WireWriter(WireType.contactNickname).string("Bob", 256, "nickname").finish();
    const long = new WireWriter(WireType.contactNickname)
      .string("x".repeat(65), 256, "nickname")
      .finish();
    const otherType = new WireWriter(WireType.deviceName).string("Bob", 256, "name").finish();
    const pad = (b: Uint8Array, n = CONTACT_NICKNAME_PADDED_BYTES) => {
      const out = new Uint8Array(n);
      out.set(b);
      return out;
    };
    const dirty = pad(good);
    dirty[200] = 1;
    const plaintexts = {
      "not padded": good,
      "padded too far": pad(good, 300),
      "over the limit": pad(long),
      "non-zero padding": dirty,
      "another type": pad(otherType),
    };
    for (const [what, plaintext] of Object.entries(plaintexts)) {
      const sealed = await sealWithRandomNonce(ctx, "contactNickname", key, plaintext, ids);
      expect([
        what,
        await codeOf(() => decryptContactNickname(ctx, key, ALICE, BOB, sealed)),
      ]).toEqual([what, "malformed_message"]);
    }
  });
});

describe("contact nickname properties", () => {
  test("any valid nickname round trips at the one sealed length; a flip is refused", async () => {
    const ctx = testContext("contact nickname properties", native);
    const key = await accountKey("account");
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ unit: "binary", minLength: 1, maxLength: CONTACT_NICKNAME.maxChars })
          .filter((s) => textProblem(s, CONTACT_NICKNAME) === undefined),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (nickname, at, mask) => {
          const sealed = await encryptContactNickname(ctx, key, ALICE, BOB, nickname);
          expect(sealed.length).toBe(CONTACT_NICKNAME_SEALED_BYTES);
          expect(await decryptContactNickname(ctx, key, ALICE, BOB, sealed)).toBe(nickname);
          const changed = sealed.slice();
          changed[at % changed.length]! ^= mask;
          expect(await codeOf(() => decryptContactNickname(ctx, key, ALICE, BOB, changed))).toBe(
            "decrypt_failed",
          );
        },
      ),
      { numRuns: 200 },
    );
  });

  test("the decoder refuses random bytes with malformed_message only", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        bytes[0] = 1;
        if (bytes.length > 1) bytes[1] = WireType.contactNickname;
        try {
          decodeContactNickname(bytes);
        } catch (err) {
          expect(err instanceof ParleyError && err.code).toBe("malformed_message");
        }
      }),
    );
  });
});

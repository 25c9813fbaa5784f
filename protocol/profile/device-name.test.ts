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
  DEVICE_NAME,
  DEVICE_NAME_PADDED_BYTES,
  DEVICE_NAME_SEALED_BYTES,
  decryptDeviceName,
  encryptDeviceName,
} from "./device-name.ts";
import { textProblem } from "./fields.ts";
import { sealWithRandomNonce } from "./sealed.ts";

const native = (await nativePrimitives())!;
const ALICE = "0190a0b0-0000-7000-8000-00000000a11c" as UserId;
const BOB = "0190a0b0-0000-7000-8000-000000000b0b" as UserId;
const PHONE = "0190a0b0-0000-7000-8000-0000000000d1" as DeviceId;
const LAPTOP = "0190a0b0-0000-7000-8000-0000000000d2" as DeviceId;

const accountKey = async (seed: string) => (await generateAccountKey(testContext(seed))).secretKey;

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
    return "none";
  } catch (err) {
    return err instanceof ParleyError ? err.code : (err as Error).name;
  }
}

describe("device names", () => {
  test("round trip across implementations; every sealed name has one length", async () => {
    const key = await accountKey("account");
    for (const [seal, open] of [
      [native, noblePrimitives],
      [noblePrimitives, native],
    ] as const) {
      for (const name of ["A", "Alice's laptop", "🐇".repeat(64)]) {
        const sealed = await encryptDeviceName(testContext(name, seal), key, ALICE, PHONE, name);
        expect(sealed.length).toBe(DEVICE_NAME_SEALED_BYTES);
        expect(await decryptDeviceName(testContext("o", open), key, ALICE, PHONE, sealed)).toBe(
          name,
        );
      }
    }
    // Well under the server's 512-byte bound on a name ciphertext.
    expect(DEVICE_NAME_SEALED_BYTES).toBe(289);
  });

  test("the implementation writes exactly the documented layout", async () => {
    const key = await accountKey("layout");
    const sealed = await encryptDeviceName(testContext("layout", native), key, ALICE, PHONE, "Pi");
    const padded = new Uint8Array(260);
    padded.set([1, 0x13, 2, ...utf8("Pi")]);
    const aesKey = hkdf(sha256, key, new Uint8Array(32), utf8("Parley-v1 device name"), 32);
    const nonce = testContext("layout").rng(12);
    const aad = concatBytes(Uint8Array.of(1), utf8(ALICE), utf8(PHONE));
    const expected = concatBytes(Uint8Array.of(1), nonce, gcm(aesKey, nonce, aad).encrypt(padded));
    expect(toHex(sealed)).toBe(toHex(expected));
  });

  test("another account, user or device, or a changed byte, is decrypt_failed", async () => {
    const ctx = testContext("tamper", native);
    const key = await accountKey("account");
    const sealed = await encryptDeviceName(ctx, key, ALICE, PHONE, "Phone");
    const open = (k: AccountSecretKey, u: UserId, d: DeviceId, s: Uint8Array) =>
      codeOf(() => decryptDeviceName(ctx, k, u, d, s));
    expect(await open(await accountKey("other"), ALICE, PHONE, sealed)).toBe("decrypt_failed");
    expect(await open(key, BOB, PHONE, sealed)).toBe("decrypt_failed");
    // A server swapping two devices' names.
    expect(await open(key, ALICE, LAPTOP, sealed)).toBe("decrypt_failed");
    for (let i = 0; i < sealed.length; i++) {
      const changed = sealed.slice();
      changed[i]! ^= 0x80;
      expect([i, await open(key, ALICE, PHONE, changed)]).toEqual([i, "decrypt_failed"]);
    }
    expect(await open(key, ALICE, PHONE, sealed.slice(0, 28))).toBe("decrypt_failed");
  });

  test("bad names and ids are refused; bad authentic plaintext is malformed_message", async () => {
    const ctx = testContext("limits", native);
    const key = await accountKey("account");
    for (const [name, code] of [
      ["x".repeat(65), "limit_exceeded"],
      ["", "invalid_request"],
      [" ", "invalid_request"],
      ["a\u0000b", "invalid_request"],
    ] as const) {
      expect([name, await codeOf(() => encryptDeviceName(ctx, key, ALICE, PHONE, name))]).toEqual([
        name,
        code,
      ]);
    }
    expect(
      await codeOf(() => encryptDeviceName(ctx, key, ALICE, "phone" as DeviceId, "Phone")),
    ).toBe("invalid_request");
    expect(
      await codeOf(() =>
        encryptDeviceName(ctx, key.slice(1) as AccountSecretKey, ALICE, PHONE, "Phone"),
      ),
    ).toBe("invalid_key");

    const ids = concatBytes(utf8(ALICE), utf8(PHONE));
    const good = new WireWriter(WireType.deviceName).string("Phone", 256, "name").finish();
    const long = new WireWriter(WireType.deviceName).string("x".repeat(65), 256, "name").finish();
    const pad = (b: Uint8Array, n = DEVICE_NAME_PADDED_BYTES) => {
      const out = new Uint8Array(n);
      out.set(b);
      return out;
    };
    const dirty = pad(good);
    dirty[200] = 1;
    for (const plaintext of [good, pad(good, 300), pad(long), dirty]) {
      const sealed = await sealWithRandomNonce(ctx, "deviceName", key, plaintext, ids);
      expect(await codeOf(() => decryptDeviceName(ctx, key, ALICE, PHONE, sealed))).toBe(
        "malformed_message",
      );
    }
  });

  test("any valid name round trips at the one sealed length (property)", async () => {
    const ctx = testContext("device name properties", native);
    const key = await accountKey("account");
    await fc.assert(
      fc.asyncProperty(
        fc
          .string({ unit: "binary", minLength: 1, maxLength: DEVICE_NAME.maxChars })
          .filter((s) => textProblem(s, DEVICE_NAME) === undefined),
        async (name) => {
          const sealed = await encryptDeviceName(ctx, key, ALICE, LAPTOP, name);
          expect(sealed.length).toBe(DEVICE_NAME_SEALED_BYTES);
          expect(await decryptDeviceName(ctx, key, ALICE, LAPTOP, sealed)).toBe(name);
        },
      ),
      { numRuns: 200 },
    );
  });
});

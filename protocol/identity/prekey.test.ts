import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import { ParleyError } from "../errors.ts";
import type { DeviceId, UserId } from "./ids.ts";
import { generateAccountKey } from "./keys.ts";
import {
  decodeSignedPrekey,
  encodeSignedPrekey,
  PREKEY_MAX_LIFETIME_MS,
  type PrekeyKind,
  prekeyBody,
  type SignedPrekey,
  signPrekey,
  verifyPrekey,
} from "./prekey.ts";
import { signBody } from "./signed.ts";

const native = (await nativePrimitives())!;
const USER = "01940000-0000-7000-8000-000000000001" as UserId;
const OTHER_USER = "01940000-0000-7000-8000-000000000002" as UserId;
const DEVICE_A = "01940000-0000-7000-8000-0000000000d1" as DeviceId;
const DEVICE_B = "01940000-0000-7000-8000-0000000000d2" as DeviceId;

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ParleyError) return err.code;
    throw err;
  }
  throw new Error("expected a ParleyError");
}

async function setup(prims = native) {
  const ctx = testContext("prekeys", prims);
  const account = await generateAccountKey(ctx);
  const x = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const pq = await ctx.prims.mlkem1024.generateKeyPair(ctx.rng);
  const sign = (kind: PrekeyKind, keyId = 1) =>
    signPrekey(ctx, account.secretKey, {
      userId: USER,
      deviceId: DEVICE_A,
      kind,
      keyId,
      publicKey: kind === "signed" || kind === "one-time" ? x.publicKey : pq.publicKey,
    });
  return { ctx, account, x, pq, sign };
}

for (const prims of [noblePrimitives, native]) {
  describe(`signed prekeys (${prims.name})`, () => {
    test("every kind round-trips and verifies", async () => {
      const { ctx, account, sign } = await setup(prims);
      for (const kind of ["signed", "one-time", "pq-one-time", "pq-last-resort"] as const) {
        const prekey = await sign(kind, 42);
        const bytes = encodeSignedPrekey(prekey);
        expect(bytes.length).toBe(kind.startsWith("pq") ? 1722 : 186);
        const decoded = decodeSignedPrekey(bytes);
        expect(decoded).toEqual(prekey);
        await verifyPrekey(ctx, account.publicKey, decoded, {
          userId: USER,
          deviceId: DEVICE_A,
          kind,
          keyId: 42,
        });
      }
    });
  });
}

describe("signed prekeys: refusals", () => {
  test("kind confusion: a one-time key is not the signed prekey, one-time PQ is not last-resort", async () => {
    const { ctx, account, sign } = await setup();
    const expect_ = { userId: USER, deviceId: DEVICE_A };
    const oneTime = await sign("one-time");
    expect(
      await codeOf(() =>
        verifyPrekey(ctx, account.publicKey, oneTime, { ...expect_, kind: "signed" }),
      ),
    ).toBe("invalid_key");
    const pqOneTime = await sign("pq-one-time");
    expect(
      await codeOf(() =>
        verifyPrekey(ctx, account.publicKey, pqOneTime, { ...expect_, kind: "pq-last-resort" }),
      ),
    ).toBe("invalid_key");
    await verifyPrekey(ctx, account.publicKey, pqOneTime, {
      ...expect_,
      kind: ["pq-one-time", "pq-last-resort"],
    });
    // Relabelling the kind in place breaks the signature.
    const relabelled = { ...oneTime, kind: "signed" as const };
    expect(
      await codeOf(() =>
        verifyPrekey(ctx, account.publicKey, relabelled, { ...expect_, kind: "signed" }),
      ),
    ).toBe("invalid_signature");
  });

  test("a prekey signed for device A is refused for device B or another user", async () => {
    const { ctx, account, sign } = await setup();
    const prekey = await sign("signed");
    const check = (userId: UserId, deviceId: DeviceId) =>
      codeOf(() =>
        verifyPrekey(ctx, account.publicKey, prekey, { userId, deviceId, kind: "signed" }),
      );
    expect(await check(USER, DEVICE_B)).toBe("invalid_key");
    expect(await check(OTHER_USER, DEVICE_A)).toBe("invalid_key");
    const moved = { ...prekey, deviceId: DEVICE_B };
    expect(
      await codeOf(() =>
        verifyPrekey(ctx, account.publicKey, moved, {
          userId: USER,
          deviceId: DEVICE_B,
          kind: "signed",
        }),
      ),
    ).toBe("invalid_signature");
  });

  test("another key id, another account key, expiry", async () => {
    const { ctx, account, sign } = await setup();
    const prekey = await sign("signed", 5);
    const base = { userId: USER, deviceId: DEVICE_A, kind: "signed" as const };
    expect(
      await codeOf(() => verifyPrekey(ctx, account.publicKey, prekey, { ...base, keyId: 6 })),
    ).toBe("invalid_key");
    const other = await generateAccountKey(ctx);
    expect(await codeOf(() => verifyPrekey(ctx, other.publicKey, prekey, base))).toBe(
      "invalid_signature",
    );
    expect(prekey.expiresAt - prekey.createdAt).toBe(PREKEY_MAX_LIFETIME_MS);
    await verifyPrekey(ctx, account.publicKey, prekey, { ...base, now: prekey.expiresAt - 1 });
    expect(
      await codeOf(() =>
        verifyPrekey(ctx, account.publicKey, prekey, { ...base, now: prekey.expiresAt }),
      ),
    ).toBe("invalid_key");
  });

  test("keys that do not suit their kind are never signed nor accepted", async () => {
    const { ctx, account, pq, x } = await setup();
    const fields = { userId: USER, deviceId: DEVICE_A, keyId: 1 };
    const sign = (kind: PrekeyKind, publicKey: Uint8Array) =>
      signPrekey(ctx, account.secretKey, { ...fields, kind, publicKey });
    expect(await codeOf(() => sign("signed", new Uint8Array(32)))).toBe("invalid_key");
    expect(await codeOf(() => sign("signed", pq.publicKey))).toBe("invalid_key");
    expect(await codeOf(() => sign("pq-one-time", x.publicKey))).toBe("invalid_key");
    const badPq = pq.publicKey.slice();
    badPq[0] = 0xff;
    badPq[1] = badPq[1]! | 0x0f; // first coefficient 0xfff ≥ q
    expect(await codeOf(() => sign("pq-last-resort", badPq))).toBe("invalid_key");

    // Signed anyway (by a buggy or hostile signer): verification still refuses it.
    const unsigned = {
      ...fields,
      kind: "pq-last-resort" as const,
      publicKey: badPq,
      createdAt: ctx.now(),
      expiresAt: ctx.now() + 1000,
    };
    const forged: SignedPrekey = {
      ...unsigned,
      signature: await signBody(ctx, account.secretKey, "prekey", prekeyBody(unsigned)),
    };
    expect(
      await codeOf(() =>
        verifyPrekey(ctx, account.publicKey, forged, {
          ...fields,
          deviceId: DEVICE_A,
          kind: "pq-last-resort",
        }),
      ),
    ).toBe("invalid_key");
  });

  test("the decoder refuses unknown kinds, out-of-range ids and a key length that does not suit the kind", async () => {
    const { sign } = await setup();
    const bytes = encodeSignedPrekey(await sign("signed"));
    const kindAt = 2 + 1 + 36 + 1 + 36;
    for (const kind of [0, 5, 255, 3]) {
      const edited = bytes.slice();
      edited[kindAt] = kind;
      expect(await codeOf(() => decodeSignedPrekey(edited))).toBe("malformed_message");
    }
    const bigId = bytes.slice();
    // keyId 1 → a 5-byte varint above 2^32 − 1.
    const tooBig = Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x10);
    const withBigId = new Uint8Array([
      ...bigId.subarray(0, kindAt + 1),
      ...tooBig,
      ...bigId.subarray(kindAt + 2),
    ]);
    expect(await codeOf(() => decodeSignedPrekey(withBigId))).toBe("malformed_message");
  });
});

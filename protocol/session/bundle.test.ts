import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { fromUtf8, utf8 } from "../crypto/bytes.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { ParleyError } from "../errors.ts";
import { issueDeviceCertificate } from "../identity/device-certificate.ts";
import type { DeviceId, UserId } from "../identity/ids.ts";
import { generateAccountKey, generateDeviceIdentity } from "../identity/keys.ts";
import { signPrekey } from "../identity/prekey.ts";
import { type SignedPrekeyBundle, verifyPrekeyBundle } from "./bundle.ts";
import { decryptPairwise, encryptPairwise, initiateSession } from "./cipher.ts";
import { InMemorySessionStores } from "./stores.ts";

const native = (await nativePrimitives())!;
const BOB = "0190a0b0-0000-7000-8000-000000000020" as UserId;
const BOB_LAPTOP = "0190a0b0-0000-7000-8000-000000000021" as DeviceId;
const BOB_PHONE = "0190a0b0-0000-7000-8000-000000000022" as DeviceId;

async function bobsDirectory(seed: string) {
  const ctx = testContext(seed, native);
  const account = await generateAccountKey(ctx);
  const device = await generateDeviceIdentity(ctx);
  const spk = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const otk = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const pq = await ctx.prims.mlkem1024.generateKeyPair(ctx.rng);
  const who = { userId: BOB, deviceId: BOB_LAPTOP };
  const bundle: SignedPrekeyBundle = {
    accountKey: account.publicKey,
    certificate: await issueDeviceCertificate(ctx, account.secretKey, {
      ...who,
      identityKey: device.identityKey.publicKey,
      signingKey: device.signingKey.publicKey,
    }),
    signedPrekey: await signPrekey(ctx, account.secretKey, {
      ...who,
      kind: "signed",
      keyId: 1,
      publicKey: spk.publicKey,
    }),
    oneTimePrekey: await signPrekey(ctx, account.secretKey, {
      ...who,
      kind: "one-time",
      keyId: 7,
      publicKey: otk.publicKey,
    }),
    pqPrekey: await signPrekey(ctx, account.secretKey, {
      ...who,
      kind: "pq-last-resort",
      keyId: 9,
      publicKey: pq.publicKey,
    }),
  };
  const store = new InMemorySessionStores({
    userId: BOB,
    deviceId: BOB_LAPTOP,
    accountKey: account.publicKey,
    identityKeyPair: device.identityKey,
  });
  store.signedPrekeys.set(1, spk);
  store.oneTimePrekeys.set(7, otk);
  store.pqPrekeys.set(9, { keyPair: pq, lastResort: true });
  return { ctx, account, bundle, store };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) => (e instanceof ParleyError ? e.code : String(e)),
  );

describe("prekey bundles", () => {
  test("a verified bundle starts a session the device can answer", async () => {
    const { ctx, bundle, store } = await bobsDirectory("bundle");
    const keys = await verifyPrekeyBundle(ctx, bundle, { userId: BOB, deviceId: BOB_LAPTOP });
    expect(keys.pqPrekey.lastResort).toBe(true);
    const aliceAccount = await generateAccountKey(ctx);
    const alice = new InMemorySessionStores({
      userId: "0190a0b0-0000-7000-8000-000000000010",
      deviceId: "0190a0b0-0000-7000-8000-000000000011",
      accountKey: aliceAccount.publicKey,
      identityKeyPair: await ctx.prims.x25519.generateKeyPair(ctx.rng),
    });
    const bobAddress = { userId: BOB, deviceId: BOB_LAPTOP };
    await initiateSession(ctx, alice.stores, bobAddress, keys);
    const m = await encryptPairwise(ctx, alice.stores, bobAddress, utf8("hello bob"));
    const plaintext = await decryptPairwise(
      ctx,
      store.stores,
      { userId: alice.identity.userId, deviceId: alice.identity.deviceId },
      m.body,
    );
    expect(fromUtf8(plaintext)).toBe("hello bob");
  });

  test("a server swapping keys is caught", async () => {
    const { ctx, bundle } = await bobsDirectory("bundle-bad");
    const other = await bobsDirectory("bundle-other");
    const expect_ = { userId: BOB, deviceId: BOB_LAPTOP };
    // Another account's key with Bob's signed keys.
    expect(
      await codeOf(
        verifyPrekeyBundle(ctx, { ...bundle, accountKey: other.bundle.accountKey }, expect_),
      ),
    ).toBe("invalid_signature");
    // Keys signed by the right account but taken from another bundle of it are still Bob's; a
    // one-time key offered as the signed prekey is not.
    expect(
      await codeOf(
        verifyPrekeyBundle(ctx, { ...bundle, signedPrekey: bundle.oneTimePrekey! }, expect_),
      ),
    ).toBe("invalid_key");
    // Bob's laptop's keys presented as his phone's.
    expect(
      await codeOf(verifyPrekeyBundle(ctx, bundle, { userId: BOB, deviceId: BOB_PHONE })),
    ).toBe("invalid_certificate");
    // Keys of another account swapped in one by one.
    expect(
      await codeOf(
        verifyPrekeyBundle(ctx, { ...bundle, pqPrekey: other.bundle.pqPrekey }, expect_),
      ),
    ).toBe("invalid_signature");
    // Expired.
    expect(
      await codeOf(
        verifyPrekeyBundle(ctx, bundle, { ...expect_, now: ctx.now() + 400 * 86_400_000 }),
      ),
    ).not.toBe("ok");
  });
});

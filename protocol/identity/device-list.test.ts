import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import type { Primitives } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import { type DeviceCertificate, issueDeviceCertificate } from "./device-certificate.ts";
import {
  DEVICE_LIST_MAX_VALIDITY_MS,
  type DeviceList,
  type DeviceListFields,
  decodeDeviceList,
  deviceListBody,
  encodeDeviceList,
  MAX_DEVICES,
  nextDeviceList,
  signDeviceList,
} from "./device-list.ts";
import { diffDeviceLists, verifyDeviceList } from "./device-list-verify.ts";
import type { DeviceId, UserId } from "./ids.ts";
import { type AccountKeyPair, generateAccountKey, generateDeviceIdentity } from "./keys.ts";
import { signBody } from "./signed.ts";

const native = (await nativePrimitives())!;
const USER = "01940000-0000-7000-8000-000000000001" as UserId;
const OTHER_USER = "01940000-0000-7000-8000-000000000002" as UserId;
const deviceId = (n: number) =>
  `01940000-0000-7000-8000-${n.toString(16).padStart(12, "0")}` as DeviceId;

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ParleyError) return err.code;
    throw err;
  }
  throw new Error("expected a ParleyError");
}

async function setup(prims: Primitives = native) {
  const ctx = testContext("device list", prims);
  const account = await generateAccountKey(ctx);
  const cert = async (n: number, signer: AccountKeyPair = account, userId = USER) => {
    const keys = await generateDeviceIdentity(ctx);
    return issueDeviceCertificate(ctx, signer.secretKey, {
      userId,
      deviceId: deviceId(n),
      identityKey: keys.identityKey.publicKey,
      signingKey: keys.signingKey.publicKey,
    });
  };
  const [d1, d2, d3] = [await cert(1), await cert(2), await cert(3)];
  const v1 = await signDeviceList(ctx, account.secretKey, {
    userId: USER,
    version: 1,
    previousHash: new Uint8Array(32),
    devices: [d1],
  });
  const verify = (list: DeviceList, extra: Partial<Parameters<typeof verifyDeviceList>[3]> = {}) =>
    verifyDeviceList(ctx, account.publicKey, list, { userId: USER, ...extra });
  /** Signs any fields, bypassing signDeviceList's checks (a buggy or hostile signer). */
  const forceSign = async (fields: DeviceListFields): Promise<DeviceList> => ({
    ...fields,
    signature: await signBody(ctx, account.secretKey, "deviceList", deviceListBody(fields)),
  });
  return { ctx, account, cert, d1, d2, d3, v1, verify, forceSign };
}

for (const prims of [noblePrimitives, native]) {
  test(`device lists round-trip, verify and chain (${prims.name})`, async () => {
    const { ctx, account, d1, d2, v1, verify } = await setup(prims);
    const decoded = decodeDeviceList(encodeDeviceList(v1));
    expect(decoded).toEqual(v1);
    const first = await verify(decoded);
    expect(first.head.version).toBe(1);
    expect(first.skippedVersions).toBe(0);
    ctx.now.advance(1000);
    const v2 = await nextDeviceList(ctx, account.secretKey, v1, [d1, d2]);
    const second = await verify(decodeDeviceList(encodeDeviceList(v2)), { latestSeen: first.head });
    expect(second.head.version).toBe(2);
    expect(diffDeviceLists(v1, v2).added.map((d) => d.deviceId)).toEqual([d2.deviceId]);
  });
}

describe("device list: refusals", () => {
  test("an older version than the latest seen is a rollback", async () => {
    const { ctx, account, d1, d2, v1, verify } = await setup();
    const v2 = await nextDeviceList(ctx, account.secretKey, v1, [d1, d2]);
    const seen = await verify(v2);
    expect(await codeOf(() => verify(v1, { latestSeen: seen.head }))).toBe("device_list_rollback");
    // The same list again is fine.
    await verify(v2, { latestSeen: seen.head });
  });

  test("the same version with other content is a fork", async () => {
    const { ctx, account, d1, d2, d3, v1, verify } = await setup();
    const a = await nextDeviceList(ctx, account.secretKey, v1, [d1, d2]);
    const b = await nextDeviceList(ctx, account.secretKey, v1, [d1, d3]);
    const seen = await verify(a);
    expect(await codeOf(() => verify(b, { latestSeen: seen.head }))).toBe("device_list_rollback");
  });

  test("version + 1 must link to the latest seen", async () => {
    const { ctx, account, d1, d2, d3, v1, verify } = await setup();
    const seenV1 = await verify(v1);
    const otherV1 = await signDeviceList(ctx, account.secretKey, {
      userId: USER,
      version: 1,
      previousHash: new Uint8Array(32),
      devices: [d3],
    });
    const forkedV2 = await nextDeviceList(ctx, account.secretKey, otherV1, [d1, d2]);
    expect(await codeOf(() => verify(forkedV2, { latestSeen: seenV1.head }))).toBe(
      "device_list_rollback",
    );
  });

  test("a jump is accepted and counted without intermediates, checked link by link with them", async () => {
    const { ctx, account, d1, d2, d3, v1, verify } = await setup();
    const seenV1 = await verify(v1);
    const v2 = await nextDeviceList(ctx, account.secretKey, v1, [d1, d2]);
    const v3 = await nextDeviceList(ctx, account.secretKey, v2, [d1, d2, d3]);
    const v4 = await nextDeviceList(ctx, account.secretKey, v3, [d1, d3]);
    expect((await verify(v4, { latestSeen: seenV1.head })).skippedVersions).toBe(2);
    const chained = await verify(v4, { latestSeen: seenV1.head, intermediates: [v2, v3] });
    expect(chained.skippedVersions).toBe(0);

    const otherV3 = await nextDeviceList(ctx, account.secretKey, v2, [d1]);
    for (const intermediates of [[v2, otherV3], [v3], [v3, v2], [v2, v3, v4]]) {
      expect(await codeOf(() => verify(v4, { latestSeen: seenV1.head, intermediates }))).toBe(
        "device_list_rollback",
      );
    }
    const alien = await generateAccountKey(ctx);
    const forgedV3 = await nextDeviceList(ctx, alien.secretKey, v2, [d1, d2, d3]);
    const v4onForged = await nextDeviceList(ctx, account.secretKey, forgedV3, [d1, d3]);
    expect(
      await codeOf(() =>
        verify(v4onForged, { latestSeen: seenV1.head, intermediates: [v2, forgedV3] }),
      ),
    ).toBe("invalid_signature");
  });

  test("an expired list is refused; so is one issued in the future", async () => {
    const { ctx, v1, verify } = await setup();
    expect(v1.expiresAt - v1.issuedAt).toBe(DEVICE_LIST_MAX_VALIDITY_MS);
    await verify(v1, { now: v1.expiresAt - 1 });
    expect(await codeOf(() => verify(v1, { now: v1.expiresAt }))).toBe("device_list_expired");
    expect(await codeOf(() => verify(v1, { now: ctx.now() - 3_600_000 }))).toBe(
      "invalid_certificate",
    );
  });

  test("a certificate signed by another account key or for another user is refused", async () => {
    const { ctx, account, cert, d1, forceSign, verify, v1 } = await setup();
    const alien = await generateAccountKey(ctx);
    const foreign = await cert(9, alien);
    const list = await signDeviceList(ctx, account.secretKey, {
      userId: USER,
      version: 1,
      previousHash: new Uint8Array(32),
      devices: [d1, foreign],
    });
    expect(await codeOf(() => verify(list))).toBe("invalid_certificate");
    const otherUsers = await cert(8, account, OTHER_USER);
    expect(
      await codeOf(() => signDeviceList(ctx, account.secretKey, { ...v1, devices: [otherUsers] })),
    ).toBe("invalid_certificate");
    expect(
      await codeOf(async () => verify(await forceSign({ ...v1, devices: [d1, otherUsers] }))),
    ).toBe("invalid_certificate");
  });

  test("certificates must cover the list's whole validity", async () => {
    const { ctx, account, d1, v1, forceSign, verify } = await setup();
    const shortLived = { ...d1, expiresAt: v1.expiresAt - 1 };
    const resigned: DeviceCertificate = {
      ...shortLived,
      signature: (await issueDeviceCertificate(ctx, account.secretKey, shortLived)).signature,
    };
    expect(
      await codeOf(() => signDeviceList(ctx, account.secretKey, { ...v1, devices: [resigned] })),
    ).toBe("invalid_certificate");
    expect(await codeOf(async () => verify(await forceSign({ ...v1, devices: [resigned] })))).toBe(
      "invalid_certificate",
    );
  });

  test("a list for another user, or signed by another key, is refused", async () => {
    const { ctx, account, v1 } = await setup();
    expect(
      await codeOf(() => verifyDeviceList(ctx, account.publicKey, v1, { userId: OTHER_USER })),
    ).toBe("invalid_certificate");
    const alien = await generateAccountKey(ctx);
    expect(await codeOf(() => verifyDeviceList(ctx, alien.publicKey, v1, { userId: USER }))).toBe(
      "invalid_signature",
    );
  });

  test("duplicate device ids, too many devices, no devices and a non-zero genesis hash", async () => {
    const { ctx, account, cert, d1, v1, forceSign, verify } = await setup();
    const twin = { ...(await cert(2)), deviceId: d1.deviceId };
    const sign = (fields: Partial<DeviceListFields>) =>
      signDeviceList(ctx, account.secretKey, { ...v1, ...fields });
    await expect(sign({ devices: [d1, twin] })).rejects.toBeInstanceOf(RangeError);
    await expect(sign({ devices: [d1, d1] })).rejects.toBeInstanceOf(RangeError);
    await expect(sign({ devices: [] })).rejects.toBeInstanceOf(RangeError);
    await expect(sign({ previousHash: new Uint8Array(32).fill(1) })).rejects.toBeInstanceOf(
      RangeError,
    );
    const many = await Promise.all(
      Array.from({ length: MAX_DEVICES + 1 }, (_, i) => cert(100 + i)),
    );
    expect(await codeOf(() => sign({ devices: many }))).toBe("limit_exceeded");
    await verify(await sign({ devices: many.slice(0, MAX_DEVICES) }));

    const dup = await forceSign({ ...v1, devices: [d1, twin] });
    expect(await codeOf(() => verify(dup))).toBe("malformed_message");
    expect(await codeOf(() => decodeDeviceList(encodeDeviceList(dup)))).toBe("malformed_message");
    const genesis = await forceSign({ ...v1, previousHash: new Uint8Array(32).fill(1) });
    expect(await codeOf(() => decodeDeviceList(encodeDeviceList(genesis)))).toBe(
      "malformed_message",
    );
    // Seventeen devices cannot even be encoded; patch the count of a 16-device list instead.
    const sixteen = encodeDeviceList(await sign({ devices: many.slice(0, MAX_DEVICES) }));
    const countAt = 2 + 1 + 36 + 1 + 32 + 6 + 6;
    expect(sixteen[countAt]).toBe(MAX_DEVICES);
    const patched = sixteen.slice();
    patched[countAt] = MAX_DEVICES + 1;
    expect(await codeOf(() => decodeDeviceList(patched))).toBe("malformed_message");
  });

  test("diff reports added, removed and rekeyed devices; a renewed certificate is no change", async () => {
    const { ctx, account, cert, d1, d2, d3 } = await setup();
    const renewed = await issueDeviceCertificate(ctx, account.secretKey, {
      ...d1,
      createdAt: d1.createdAt + 1,
      expiresAt: d1.expiresAt + 1,
    });
    const rekeyed = { ...(await cert(2)), deviceId: d2.deviceId };
    const diff = diffDeviceLists({ devices: [d1, d2] }, { devices: [renewed, rekeyed, d3] });
    expect(diff.added).toEqual([d3]);
    expect(diff.removed).toEqual([]);
    expect(diff.rekeyed).toEqual([rekeyed]);
    expect(diffDeviceLists({ devices: [d1, d2] }, { devices: [d2] }).removed).toEqual([d1]);
  });
});

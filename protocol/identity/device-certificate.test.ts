import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import type { Primitives } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import {
  DEVICE_CERTIFICATE_MAX_LIFETIME_MS,
  type DeviceCertificate,
  type DeviceCertificateFields,
  decodeDeviceCertificate,
  deviceCertificateBody,
  encodeDeviceCertificate,
  issueDeviceCertificate,
  verifyDeviceCertificate,
} from "./device-certificate.ts";
import type { DeviceId, UserId } from "./ids.ts";
import {
  type AccountPublicKey,
  asAccountPublicKey,
  generateAccountKey,
  generateDeviceIdentity,
} from "./keys.ts";
import { MAX_CLOCK_SKEW_MS, signBody } from "./signed.ts";

const native = (await nativePrimitives())!;
const USER = "01940000-0000-7000-8000-000000000001" as UserId;
const OTHER_USER = "01940000-0000-7000-8000-000000000002" as UserId;
const DEVICE = "01940000-0000-7000-8000-0000000000d1" as DeviceId;
const OTHER_DEVICE = "01940000-0000-7000-8000-0000000000d2" as DeviceId;
const DAY = 86_400_000;

/** The ParleyError code a call fails with (the test fails if it succeeds or throws another). */
async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ParleyError) return err.code;
    throw err;
  }
  throw new Error("expected a ParleyError");
}

async function setup(prims: Primitives) {
  const ctx = testContext("device certificate", prims);
  const account = await generateAccountKey(ctx);
  const device = await generateDeviceIdentity(ctx);
  const fields = {
    userId: USER,
    deviceId: DEVICE,
    identityKey: device.identityKey.publicKey,
    signingKey: device.signingKey.publicKey,
  };
  const cert = await issueDeviceCertificate(ctx, account.secretKey, fields);
  return { ctx, account, device, fields, cert };
}

for (const prims of [noblePrimitives, native]) {
  describe(`device certificate (${prims.name})`, () => {
    test("round-trips and verifies", async () => {
      const { ctx, account, cert } = await setup(prims);
      const decoded = decodeDeviceCertificate(encodeDeviceCertificate(cert));
      expect(decoded).toEqual(cert);
      expect(encodeDeviceCertificate(decoded)).toEqual(encodeDeviceCertificate(cert));
      await verifyDeviceCertificate(ctx, account.publicKey, decoded, {
        userId: USER,
        deviceId: DEVICE,
      });
      expect(cert.expiresAt - cert.createdAt).toBe(365 * DAY);
    });

    test("a certificate signed by another account key is refused", async () => {
      const { ctx, cert } = await setup(prims);
      const other = await generateAccountKey(ctx);
      expect(
        await codeOf(() => verifyDeviceCertificate(ctx, other.publicKey, cert, { userId: USER })),
      ).toBe("invalid_signature");
    });

    test("a certificate for another user or device is refused", async () => {
      const { ctx, account, cert } = await setup(prims);
      const key = account.publicKey;
      expect(
        await codeOf(() => verifyDeviceCertificate(ctx, key, cert, { userId: OTHER_USER })),
      ).toBe("invalid_certificate");
      expect(
        await codeOf(() =>
          verifyDeviceCertificate(ctx, key, cert, { userId: USER, deviceId: OTHER_DEVICE }),
        ),
      ).toBe("invalid_certificate");
      // Editing the ids breaks the signature.
      const moved = { ...cert, deviceId: OTHER_DEVICE };
      expect(await codeOf(() => verifyDeviceCertificate(ctx, key, moved, { userId: USER }))).toBe(
        "invalid_signature",
      );
    });

    test("expired and not-yet-valid certificates are refused; small skew is tolerated", async () => {
      const { ctx, account, cert } = await setup(prims);
      const key = account.publicKey;
      const at = (now: number) => verifyDeviceCertificate(ctx, key, cert, { userId: USER, now });
      await at(cert.expiresAt - 1);
      expect(await codeOf(() => at(cert.expiresAt))).toBe("invalid_certificate");
      await at(cert.createdAt - MAX_CLOCK_SKEW_MS);
      expect(await codeOf(() => at(cert.createdAt - MAX_CLOCK_SKEW_MS - 1))).toBe(
        "invalid_certificate",
      );
    });

    test("issuing refuses bad keys and impossible validity", async () => {
      const { ctx, account, fields } = await setup(prims);
      const issue = (extra: Partial<DeviceCertificateFields>) =>
        issueDeviceCertificate(ctx, account.secretKey, { ...fields, ...extra });
      expect(await codeOf(() => issue({ identityKey: new Uint8Array(32) }))).toBe("invalid_key");
      expect(await codeOf(() => issue({ identityKey: new Uint8Array(31) }))).toBe("invalid_key");
      expect(await codeOf(() => issue({ signingKey: identityPoint() }))).toBe("invalid_key");
      const now = ctx.now();
      await expect(issue({ createdAt: now, expiresAt: now })).rejects.toBeInstanceOf(RangeError);
      await expect(
        issue({ createdAt: now, expiresAt: now + DEVICE_CERTIFICATE_MAX_LIFETIME_MS + 1 }),
      ).rejects.toBeInstanceOf(RangeError);
    });

    test("a signed certificate with a low-order identity key or over-long life is refused", async () => {
      const { ctx, account, cert } = await setup(prims);
      const forge = async (edit: Partial<DeviceCertificateFields>): Promise<DeviceCertificate> => {
        const fields = { ...cert, ...edit };
        const body = deviceCertificateBody(fields);
        return {
          ...fields,
          signature: await signBody(ctx, account.secretKey, "deviceCertificate", body),
        };
      };
      const key = account.publicKey;
      const lowOrder = await forge({ identityKey: new Uint8Array(32).fill(0) });
      expect(
        await codeOf(() => verifyDeviceCertificate(ctx, key, lowOrder, { userId: USER })),
      ).toBe("invalid_certificate");
      const smallSigner = await forge({ signingKey: identityPoint() });
      expect(
        await codeOf(() => verifyDeviceCertificate(ctx, key, smallSigner, { userId: USER })),
      ).toBe("invalid_certificate");
      const forever = await forge({
        expiresAt: cert.createdAt + DEVICE_CERTIFICATE_MAX_LIFETIME_MS + 1,
      });
      expect(await codeOf(() => verifyDeviceCertificate(ctx, key, forever, { userId: USER }))).toBe(
        "invalid_certificate",
      );
    });

    test("a signature made for another kind of structure is refused", async () => {
      const { ctx, account, cert } = await setup(prims);
      const body = deviceCertificateBody(cert);
      const crossKind = {
        ...cert,
        signature: await signBody(ctx, account.secretKey, "prekey", body),
      };
      expect(
        await codeOf(() =>
          verifyDeviceCertificate(ctx, account.publicKey, crossKind, { userId: USER }),
        ),
      ).toBe("invalid_signature");
    });

    test("the identity point as account key cannot forge (R = identity, S = 0)", async () => {
      const { ctx, cert } = await setup(prims);
      const forged = { ...cert, signature: new Uint8Array(64) };
      forged.signature.set(identityPoint());
      const identity = identityPoint() as AccountPublicKey;
      expect(
        await codeOf(() => verifyDeviceCertificate(ctx, identity, forged, { userId: USER })),
      ).toBe("invalid_signature");
      expect(await codeOf(() => asAccountPublicKey(identityPoint()))).toBe("invalid_key");
    });
  });
}

test("in-memory certificates that cannot be encoded are refused with a ParleyError", async () => {
  const { ctx, account, cert } = await setup(native);
  const bad = { ...cert, userId: "Not-An-Id" as UserId };
  expect(
    await codeOf(() => verifyDeviceCertificate(ctx, account.publicKey, bad, { userId: USER })),
  ).toBe("invalid_certificate");
  const short = { ...cert, identityKey: new Uint8Array(31) };
  expect(
    await codeOf(() => verifyDeviceCertificate(ctx, account.publicKey, short, { userId: USER })),
  ).toBe("invalid_certificate");
});

test("decoding refuses non-canonical ids", async () => {
  const { cert } = await setup(native);
  const bytes = encodeDeviceCertificate(cert);
  const upper = bytes.slice();
  upper[3] = "A".charCodeAt(0); // first character of the user id
  expect(await codeOf(() => decodeDeviceCertificate(upper))).toBe("malformed_message");
});

/** The Ed25519 identity point (small order): y = 1. */
function identityPoint(): Uint8Array {
  const p = new Uint8Array(32);
  p[0] = 1;
  return p;
}

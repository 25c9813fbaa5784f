import type { ProtocolContext } from "../crypto/context.ts";
import { type DeviceCertificate, verifyDeviceCertificate } from "../identity/device-certificate.ts";
import type { DeviceId, UserId } from "../identity/ids.ts";
import { asAccountPublicKey } from "../identity/keys.ts";
import { type SignedPrekey, verifyPrekey } from "../identity/prekey.ts";
import type { PrekeyBundle } from "./pqxdh.ts";

/** A device's keys as the key directory serves them: all signed by the account key. */
export interface SignedPrekeyBundle {
  accountKey: Uint8Array;
  certificate: DeviceCertificate;
  signedPrekey: SignedPrekey;
  oneTimePrekey?: SignedPrekey;
  pqPrekey: SignedPrekey;
}

/**
 * Checks every signature of a fetched bundle against the account key (which the caller
 * trusts: see IdentityStore) and returns the keys PQXDH uses. Throws ParleyError
 * `invalid_signature`, `invalid_certificate` or `invalid_key` naming what is wrong; a
 * server that swaps a key, or moves one device's prekey to another, is caught here.
 */
export async function verifyPrekeyBundle(
  ctx: ProtocolContext,
  bundle: SignedPrekeyBundle,
  expected: { userId: UserId; deviceId: DeviceId; now?: number },
): Promise<PrekeyBundle> {
  const accountKey = asAccountPublicKey(bundle.accountKey);
  const now = expected.now ?? ctx.now();
  const who = { userId: expected.userId, deviceId: expected.deviceId, now };
  const cert = await verifyDeviceCertificate(ctx, accountKey, bundle.certificate, who);
  const spk = await verifyPrekey(ctx, accountKey, bundle.signedPrekey, { ...who, kind: "signed" });
  const otk =
    bundle.oneTimePrekey &&
    (await verifyPrekey(ctx, accountKey, bundle.oneTimePrekey, { ...who, kind: "one-time" }));
  const pq = await verifyPrekey(ctx, accountKey, bundle.pqPrekey, {
    ...who,
    kind: ["pq-one-time", "pq-last-resort"],
  });
  return {
    accountKey,
    identityKey: cert.identityKey,
    signedPrekey: { keyId: spk.keyId, publicKey: spk.publicKey },
    oneTimePrekey: otk && { keyId: otk.keyId, publicKey: otk.publicKey },
    pqPrekey: {
      keyId: pq.keyId,
      publicKey: pq.publicKey,
      lastResort: pq.kind === "pq-last-resort",
    },
  };
}

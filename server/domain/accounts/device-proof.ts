import type { KeyUpload } from "../../../protocol/api/accounts.ts";
import { fromBase64Url } from "../../../protocol/api/base64.ts";
import type { ProtocolContext } from "../../../protocol/crypto/context.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import {
  type DeviceCertificate,
  decodeDeviceCertificate,
  encodeDeviceCertificate,
  verifyDeviceCertificate,
} from "../../../protocol/identity/device-certificate.ts";
import { type DeviceList, decodeDeviceList } from "../../../protocol/identity/device-list.ts";
import { verifyDeviceList } from "../../../protocol/identity/device-list-verify.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import type { AccountPublicKey } from "../../../protocol/identity/keys.ts";
import {
  decodeSignedPrekey,
  type PrekeyKind,
  verifyPrekey,
} from "../../../protocol/identity/prekey.ts";
import type { DeviceListRecord, PrekeyRecord, PrekeyUploadRecord } from "../ports/accounts.ts";

/**
 * The server checks every signature a client uploads against the account key it stores, so
 * it never serves a key the account did not sign (and tells the client so at once: 422).
 */

async function verifiedPrekey(
  ctx: ProtocolContext,
  accountKey: AccountPublicKey,
  encoded: string,
  field: string,
  who: { userId: UserId; deviceId: DeviceId },
  kind: PrekeyKind,
): Promise<PrekeyRecord> {
  const bytes = fromBase64Url(encoded, field);
  const prekey = await verifyPrekey(ctx, accountKey, decodeSignedPrekey(bytes), { ...who, kind });
  return {
    keyId: prekey.keyId,
    publicKey: prekey.publicKey,
    signature: prekey.signature,
    encoded: bytes,
  };
}

/** Verifies an upload of prekeys for one device; `at` is where it sits in the request. */
export async function verifyKeyUpload(
  ctx: ProtocolContext,
  accountKey: AccountPublicKey,
  who: { userId: UserId; deviceId: DeviceId },
  keys: KeyUpload,
  at: "body" | "body.keys" = "body.keys",
): Promise<PrekeyUploadRecord> {
  const many = (list: string[] | undefined, field: string, kind: PrekeyKind) =>
    Promise.all(
      (list ?? []).map((k, i) => verifiedPrekey(ctx, accountKey, k, `${field}.${i}`, who, kind)),
    );
  const out: PrekeyUploadRecord = {
    oneTimePrekeys: await many(keys.oneTimePrekeys, `${at}.oneTimePrekeys`, "one-time"),
    pqOneTimePrekeys: await many(keys.pqOneTimePrekeys, `${at}.pqOneTimePrekeys`, "pq-one-time"),
  };
  if (keys.signedPrekey)
    out.signedPrekey = await verifiedPrekey(
      ctx,
      accountKey,
      keys.signedPrekey,
      `${at}.signedPrekey`,
      who,
      "signed",
    );
  if (keys.pqLastResort)
    out.pqLastResort = await verifiedPrekey(
      ctx,
      accountKey,
      keys.pqLastResort,
      `${at}.pqLastResort`,
      who,
      "pq-last-resort",
    );
  for (const [name, list] of [
    [`${at}.oneTimePrekeys`, out.oneTimePrekeys],
    [`${at}.pqOneTimePrekeys`, out.pqOneTimePrekeys],
  ] as const) {
    if (new Set(list.map((k) => k.keyId)).size !== list.length) {
      throw new ParleyError("invalid_request", `'${name}' repeats a key id`, { field: name });
    }
  }
  return out;
}

export interface VerifiedNewDevice {
  certificate: DeviceCertificate;
  certificateBytes: Uint8Array;
  deviceList: DeviceListRecord;
  keys: PrekeyUploadRecord;
}

/**
 * Verifies what a device brings when it registers or is linked: its certificate, the
 * device list that adds it (the next version after `latest`, or version 1), and its keys,
 * all signed by the account key. The list must hold exactly `expectedDeviceIds` plus the
 * new device, so the devices the server knows always match the signed list.
 */
export async function verifyNewDevice(
  ctx: ProtocolContext,
  input: {
    accountKey: AccountPublicKey;
    userId: UserId;
    deviceId: DeviceId;
    certificate: string;
    deviceList: string;
    keys: KeyUpload;
    latest: DeviceListRecord | undefined;
    expectedDeviceIds: readonly string[];
    /** A new device must be reachable: signed and last-resort PQ prekeys are required. */
    requireKeys: boolean;
  },
): Promise<VerifiedNewDevice> {
  const certificateBytes = fromBase64Url(input.certificate, "body.device.certificate");
  const certificate = await verifyDeviceCertificate(
    ctx,
    input.accountKey,
    decodeDeviceCertificate(certificateBytes),
    {
      userId: input.userId,
      deviceId: input.deviceId,
    },
  );
  const listBytes = fromBase64Url(input.deviceList, "body.deviceList");
  const latestSeen = input.latest
    ? { version: input.latest.version, hash: input.latest.hash }
    : undefined;
  const verified = await verifyDeviceList(ctx, input.accountKey, decodeDeviceList(listBytes), {
    userId: input.userId,
    latestSeen,
  });
  expectMembers(verified.list, [...input.expectedDeviceIds, input.deviceId]);
  const listed = verified.list.devices.find((d) => d.deviceId === input.deviceId)!;
  if (!sameBytes(encodeDeviceCertificate(listed), certificateBytes)) {
    throw new ParleyError(
      "invalid_certificate",
      "The device list holds another certificate for this device.",
      { field: "body.deviceList" },
    );
  }
  if (input.latest === undefined && verified.list.version !== 1) {
    throw new ParleyError("stale_device_list", "A new account's device list starts at version 1.", {
      field: "body.deviceList",
    });
  }
  if (input.latest !== undefined && verified.list.version !== input.latest.version + 1) {
    throw new ParleyError("stale_device_list", undefined, { field: "body.deviceList" });
  }
  const keys = await verifyKeyUpload(
    ctx,
    input.accountKey,
    { userId: input.userId, deviceId: input.deviceId },
    input.keys,
  );
  if (input.requireKeys && (!keys.signedPrekey || !keys.pqLastResort)) {
    throw new ParleyError(
      "invalid_request",
      "A new device must publish a signed prekey and a last-resort PQ prekey.",
      {
        field: "body.keys",
      },
    );
  }
  return {
    certificate,
    certificateBytes,
    deviceList: { version: verified.list.version, encoded: listBytes, hash: verified.hash },
    keys,
  };
}

/** Verifies the device list that removes a device: the next version, without it. */
export async function verifyShrunkList(
  ctx: ProtocolContext,
  input: {
    accountKey: AccountPublicKey;
    userId: UserId;
    deviceList: string;
    latest: DeviceListRecord;
    remaining: readonly string[];
  },
): Promise<DeviceListRecord> {
  const listBytes = fromBase64Url(input.deviceList, "body.deviceList");
  const verified = await verifyDeviceList(ctx, input.accountKey, decodeDeviceList(listBytes), {
    userId: input.userId,
    latestSeen: { version: input.latest.version, hash: input.latest.hash },
  });
  if (verified.list.version !== input.latest.version + 1)
    throw new ParleyError("stale_device_list", undefined, { field: "body.deviceList" });
  expectMembers(verified.list, input.remaining);
  return { version: verified.list.version, encoded: listBytes, hash: verified.hash };
}

function expectMembers(list: DeviceList, ids: readonly string[]): void {
  const listed = new Set<string>(list.devices.map((d) => d.deviceId));
  if (listed.size !== ids.length || ids.some((id) => !listed.has(id))) {
    throw new ParleyError(
      "stale_device_list",
      "The device list does not hold exactly the account's devices.",
      {
        field: "body.deviceList",
      },
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

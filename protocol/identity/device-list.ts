import { toHex } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ED25519_SIGNATURE_BYTES, SHA256_BYTES } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import {
  DEVICE_CERTIFICATE_MAX_BYTES,
  type DeviceCertificate,
  decodeDeviceCertificate,
  encodeDeviceCertificate,
} from "./device-certificate.ts";
import { malformedField, readId, type UserId, writeId } from "./ids.ts";
import type { AccountSecretKey } from "./keys.ts";
import { expectTime, signBody, signedHash } from "./signed.ts";

/**
 * A user's device list, signed by the account key: the only devices anyone encrypts to.
 * Versions form a hash chain — version 1 has an all-zero `previousHash`, each later version
 * carries the hash ({@link deviceListHash}) of the one before — so a list can be checked
 * against the newest one a client has seen (see `verifyDeviceList`). Re-signing to extend
 * the expiry is a new version with the same devices.
 */
export interface DeviceListFields {
  userId: UserId;
  /** 1 for the first list, +1 at each change or re-signing. */
  version: number;
  /** 32 bytes: the previous version's hash; all zero for version 1. */
  previousHash: Uint8Array;
  issuedAt: number;
  /** At most {@link DEVICE_LIST_MAX_VALIDITY_MS} after `issuedAt`. */
  expiresAt: number;
  /** 1..{@link MAX_DEVICES} certificates, distinct device ids and identity keys. */
  devices: readonly DeviceCertificate[];
}

/** A device list with the account key's signature. */
export interface DeviceList extends DeviceListFields {
  signature: Uint8Array;
}

/** The most devices one user may have (the list is fetched and verified on every send). */
export const MAX_DEVICES = 16;
/** Lists are re-signed at least this often (DESIGN: every 30 days); longer is refused. */
export const DEVICE_LIST_MAX_VALIDITY_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * What is structurally wrong with a list, or undefined: checked by the decoder (as
 * `malformed_message`), before signing and at verification, so a list that gets past any of
 * them has a sane shape.
 */
export function deviceListShapeProblem(list: DeviceListFields): string | undefined {
  if (!Number.isSafeInteger(list.version) || list.version < 1) return "version must be ≥ 1";
  if (!(list.previousHash instanceof Uint8Array) || list.previousHash.length !== SHA256_BYTES) {
    return "previousHash must be 32 bytes";
  }
  if (list.version === 1 && list.previousHash.some((b) => b !== 0)) {
    return "version 1 must have an all-zero previousHash";
  }
  if (list.devices.length < 1) return "no devices";
  if (list.devices.length > MAX_DEVICES) return `more than ${MAX_DEVICES} devices`;
  const ids = new Set<string>();
  const keys = new Set<string>();
  for (const d of list.devices) {
    if (ids.has(d.deviceId)) return `device ${d.deviceId} listed twice`;
    ids.add(d.deviceId);
    const key = toHex(d.identityKey);
    if (keys.has(key)) return "two devices share an identity key";
    keys.add(key);
  }
  return undefined;
}

function encodeBody(list: DeviceListFields): WireWriter {
  const w = new WireWriter(WireType.deviceList);
  writeId(w, list.userId, "userId");
  return w
    .varint(list.version)
    .fixed(list.previousHash, SHA256_BYTES, "previousHash")
    .varint(list.issuedAt)
    .varint(list.expiresAt)
    .list(list.devices, MAX_DEVICES, "devices", (w, cert) =>
      w.bytes(encodeDeviceCertificate(cert), DEVICE_CERTIFICATE_MAX_BYTES, "device"),
    );
}

/** The signed part of a list's encoding (everything but the signature). */
export function deviceListBody(list: DeviceListFields): Uint8Array {
  return encodeBody(list).finish();
}

/**
 * Wire layout (WireType.deviceList): version u8 ‖ type u8 ‖ userId string ‖ listVersion
 * varint ‖ previousHash fixed(32) ‖ issuedAt varint ‖ expiresAt varint ‖ device count varint
 * (1..16) ‖ per device: bytes (an encoded device certificate) ‖ signature fixed(64).
 */
export function encodeDeviceList(list: DeviceList): Uint8Array {
  return encodeBody(list).fixed(list.signature, ED25519_SIGNATURE_BYTES, "signature").finish();
}

/** Decodes a device list, its certificates and its shape; never checks signatures. */
export function decodeDeviceList(bytes: Uint8Array): DeviceList {
  return decodeWith("device list", () => {
    const r = new WireReader(bytes, WireType.deviceList, "device list");
    const list: DeviceList = {
      userId: readId<UserId>(r, "userId"),
      version: r.varint("version"),
      previousHash: r.fixed(SHA256_BYTES, "previousHash"),
      issuedAt: r.varint("issuedAt"),
      expiresAt: r.varint("expiresAt"),
      devices: r.list(MAX_DEVICES, "devices", (r) =>
        decodeDeviceCertificate(r.bytes(DEVICE_CERTIFICATE_MAX_BYTES, "device")),
      ),
      signature: r.fixed(ED25519_SIGNATURE_BYTES, "signature"),
    };
    r.end();
    const problem = deviceListShapeProblem(list);
    if (problem) throw malformedField("devices", problem);
    return list;
  });
}

/**
 * A list's chain hash: SHA-256 over its signing input (context string ‖ 0x00 ‖ unsigned
 * encoding). It commits to everything the signature covers and not to the signature bytes,
 * so it names the content the account key vouched for.
 */
export function deviceListHash(ctx: ProtocolContext, list: DeviceListFields): Promise<Uint8Array> {
  return signedHash(ctx, "deviceList", deviceListBody(list));
}

/**
 * Signs a device list. `issuedAt` defaults to now, `expiresAt` to
 * {@link DEVICE_LIST_MAX_VALIDITY_MS} later. Every certificate must be the user's, created
 * by `issuedAt` and valid until at least `expiresAt` (`invalid_certificate`: renew it
 * first), so a list never outlives what it vouches for. More than {@link MAX_DEVICES}
 * devices is `limit_exceeded`; another bad shape is a RangeError.
 */
export async function signDeviceList(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  fields: Omit<DeviceListFields, "issuedAt" | "expiresAt"> & {
    issuedAt?: number;
    expiresAt?: number;
  },
): Promise<DeviceList> {
  const issuedAt = expectTime(fields.issuedAt ?? ctx.now(), "issuedAt");
  const expiresAt = expectTime(
    fields.expiresAt ?? issuedAt + DEVICE_LIST_MAX_VALIDITY_MS,
    "expiresAt",
  );
  if (expiresAt <= issuedAt || expiresAt - issuedAt > DEVICE_LIST_MAX_VALIDITY_MS) {
    throw new RangeError(`a device list is valid for 1 ms to ${DEVICE_LIST_MAX_VALIDITY_MS} ms`);
  }
  const unsigned: DeviceListFields = {
    ...fields,
    devices: [...fields.devices],
    issuedAt,
    expiresAt,
  };
  if (unsigned.devices.length > MAX_DEVICES) {
    throw new ParleyError("limit_exceeded", `A user may have at most ${MAX_DEVICES} devices.`);
  }
  const problem = deviceListShapeProblem(unsigned);
  if (problem) throw new RangeError(`device list: ${problem}`);
  const misfit = certificateMisfit(unsigned);
  if (misfit) throw new ParleyError("invalid_certificate", undefined, { detail: misfit });
  const signature = await signBody(ctx, accountSecretKey, "deviceList", deviceListBody(unsigned));
  return { ...unsigned, signature };
}

/**
 * Signs the version after `previous` (same user, version + 1, linked by hash) with the given
 * devices: how a device is added or revoked, or the list re-signed before it expires.
 */
export async function nextDeviceList(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  previous: DeviceList,
  devices: readonly DeviceCertificate[],
  times: { issuedAt?: number; expiresAt?: number } = {},
): Promise<DeviceList> {
  return signDeviceList(ctx, accountSecretKey, {
    userId: previous.userId,
    version: previous.version + 1,
    previousHash: await deviceListHash(ctx, previous),
    devices,
    ...times,
  });
}

/** Why a certificate does not fit its list (wrong user, outside the list's window), if so. */
export function certificateMisfit(list: DeviceListFields): string | undefined {
  for (const d of list.devices) {
    if (d.userId !== list.userId) return `device ${d.deviceId}: certificate for another user`;
    if (d.createdAt > list.issuedAt) return `device ${d.deviceId}: certificate newer than the list`;
    if (d.expiresAt < list.expiresAt) {
      return `device ${d.deviceId}: certificate expires before the list`;
    }
  }
  return undefined;
}

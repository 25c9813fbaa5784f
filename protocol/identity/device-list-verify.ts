import { toHex } from "../crypto/bytes.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ParleyError } from "../errors.ts";
import { type DeviceCertificate, verifyDeviceCertificate } from "./device-certificate.ts";
import {
  certificateMisfit,
  DEVICE_LIST_MAX_VALIDITY_MS,
  type DeviceList,
  deviceListBody,
  deviceListHash,
  deviceListShapeProblem,
} from "./device-list.ts";
import type { UserId } from "./ids.ts";
import type { AccountPublicKey } from "./keys.ts";
import { encodeForVerification, MAX_CLOCK_SKEW_MS, verifyBody } from "./signed.ts";

/** The newest list a client has accepted for a user: what it keeps to refuse rollbacks. */
export interface DeviceListHead {
  version: number;
  hash: Uint8Array;
}

/** What a device list is checked against. */
export interface DeviceListExpectation {
  /** The user the caller asked for. */
  userId: UserId;
  /** Ms since the epoch; defaults to `ctx.now()`. */
  now?: number;
  /** The newest list accepted before for this user, if any. */
  latestSeen?: DeviceListHead;
  /**
   * The lists strictly between `latestSeen` and the new one, oldest first. When given, the
   * whole chain must link; when absent or empty, a jump of several versions is accepted
   * and reported in `skippedVersions`.
   */
  intermediates?: readonly DeviceList[];
}

/** A list that passed {@link verifyDeviceList}. */
export interface VerifiedDeviceList {
  list: DeviceList;
  hash: Uint8Array;
  /** What to remember as `latestSeen` from now on. */
  head: DeviceListHead;
  /** Versions jumped over without their lists (0 when the chain was checked link by link). */
  skippedVersions: number;
}

const rollback = (detail: string) =>
  new ParleyError("device_list_rollback", undefined, { detail: `device list: ${detail}` });
const invalid = (detail: string) =>
  new ParleyError("invalid_certificate", undefined, { detail: `device list: ${detail}` });

async function checkSignedList(
  ctx: ProtocolContext,
  key: AccountPublicKey,
  list: DeviceList,
  userId: UserId,
): Promise<Uint8Array> {
  const problem = deviceListShapeProblem(list);
  if (problem) {
    throw new ParleyError("malformed_message", undefined, { detail: `device list: ${problem}` });
  }
  const body = encodeForVerification("invalid_signature", "device list", () =>
    deviceListBody(list),
  );
  await verifyBody(ctx, key, "deviceList", body, list.signature);
  if (list.userId !== userId) throw invalid("for another user");
  return deviceListHash(ctx, list);
}

/**
 * Accepts a device list only when all of these hold, checked in this order:
 * - shape (`malformed_message`), the account key's signature (`invalid_signature`), the
 *   expected user (`invalid_certificate`);
 * - the chain against `latestSeen` (`device_list_rollback`): an older version, or the same
 *   version with another hash (a fork), is refused; version + 1 must carry `latestSeen.hash`
 *   as `previousHash`; a longer jump must link through `intermediates` when they are given,
 *   and is accepted unchecked (counted in `skippedVersions`) when they are not — the server
 *   may have pruned old versions, and only an account-key holder can sign any version, so a
 *   jump cannot add a device the account key did not sign. A fork made with a stolen
 *   account key is visible only through the chain: the user's own devices should fetch the
 *   intermediates and alert on every device added along the way (`diffDeviceLists`);
 * - validity: issued no more than MAX_CLOCK_SKEW_MS in the future and valid for at most
 *   DEVICE_LIST_MAX_VALIDITY_MS (`invalid_certificate`), not expired (`device_list_expired`);
 * - every certificate: signed by the same account key, for the same user, valid now, with
 *   usable keys, created by `issuedAt` and valid until at least `expiresAt`
 *   (`invalid_certificate`).
 */
export async function verifyDeviceList(
  ctx: ProtocolContext,
  accountPublicKey: AccountPublicKey,
  list: DeviceList,
  expected: DeviceListExpectation,
): Promise<VerifiedDeviceList> {
  const hash = await checkSignedList(ctx, accountPublicKey, list, expected.userId);
  const skippedVersions = await checkChain(ctx, accountPublicKey, list, hash, expected);

  const now = expected.now ?? ctx.now();
  if (list.issuedAt > now + MAX_CLOCK_SKEW_MS) throw invalid("issued in the future");
  if (
    list.expiresAt <= list.issuedAt ||
    list.expiresAt - list.issuedAt > DEVICE_LIST_MAX_VALIDITY_MS
  ) {
    throw invalid(`validity must be 1 ms to ${DEVICE_LIST_MAX_VALIDITY_MS} ms`);
  }
  if (now >= list.expiresAt) {
    throw new ParleyError("device_list_expired", undefined, {
      detail: `device list v${list.version} expired at ${list.expiresAt}`,
    });
  }

  for (const [i, cert] of list.devices.entries()) {
    try {
      await verifyDeviceCertificate(ctx, accountPublicKey, cert, { userId: list.userId, now });
    } catch (err) {
      const inner = err instanceof ParleyError ? (err.detail ?? err.code) : String(err);
      throw new ParleyError("invalid_certificate", undefined, {
        field: `devices[${i}]`,
        detail: `device list: device ${cert.deviceId}: ${inner}`,
      });
    }
  }
  const misfit = certificateMisfit(list);
  if (misfit) throw invalid(misfit);

  return { list, hash, head: { version: list.version, hash }, skippedVersions };
}

/** Checks `list` against the newest list seen; returns how many versions were skipped. */
async function checkChain(
  ctx: ProtocolContext,
  key: AccountPublicKey,
  list: DeviceList,
  hash: Uint8Array,
  expected: DeviceListExpectation,
): Promise<number> {
  const latest = expected.latestSeen;
  if (!latest) return 0;
  if (list.version < latest.version) {
    throw rollback(`version ${list.version} is older than ${latest.version}`);
  }
  if (list.version === latest.version) {
    if (!constantTimeEqual(hash, latest.hash)) throw rollback(`fork at version ${list.version}`);
    return 0;
  }
  const intermediates = expected.intermediates ?? [];
  if (intermediates.length === 0 && list.version > latest.version + 1) {
    return list.version - latest.version - 1;
  }
  let head: DeviceListHead = latest;
  for (const next of [...intermediates, list]) {
    const nextHash = next === list ? hash : await checkSignedList(ctx, key, next, expected.userId);
    if (next.version !== head.version + 1) {
      throw rollback(`version ${next.version} does not follow ${head.version}`);
    }
    if (!constantTimeEqual(next.previousHash, head.hash)) {
      throw rollback(`version ${next.version} does not link to version ${head.version} (fork)`);
    }
    head = { version: next.version, hash: nextHash };
  }
  return 0;
}

/** What changed between two versions of a user's device list. */
export interface DeviceListDiff {
  /** Devices in the new list only: each of the user's own devices alerts about these. */
  added: DeviceCertificate[];
  /** Devices in the old list only (revoked): their sender keys must be rotated away from. */
  removed: DeviceCertificate[];
  /** Same device id, different identity or signing key: alert as for an added device. */
  rekeyed: DeviceCertificate[];
}

/** Compares two lists by device id (a renewed certificate with the same keys is no change). */
export function diffDeviceLists(
  previous: Pick<DeviceList, "devices">,
  next: Pick<DeviceList, "devices">,
): DeviceListDiff {
  const before = new Map(previous.devices.map((d) => [d.deviceId, d]));
  const after = new Map(next.devices.map((d) => [d.deviceId, d]));
  const diff: DeviceListDiff = { added: [], removed: [], rekeyed: [] };
  for (const [id, cert] of after) {
    const old = before.get(id);
    if (!old) diff.added.push(cert);
    else if (keysOf(old) !== keysOf(cert)) diff.rekeyed.push(cert);
  }
  for (const [id, cert] of before) if (!after.has(id)) diff.removed.push(cert);
  return diff;
}

const keysOf = (d: DeviceCertificate) => `${toHex(d.identityKey)}:${toHex(d.signingKey)}`;

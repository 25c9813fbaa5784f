import type { Static } from "@sinclair/typebox";
import type { DeviceInfo } from "../protocol/api/accounts.ts";
import { fromBase64Url, toBase64Url } from "../protocol/api/base64.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { ParleyError } from "../protocol/errors.ts";
import {
  type DeviceList,
  decodeDeviceList,
  deviceListHash,
  encodeDeviceList,
  nextDeviceList,
} from "../protocol/identity/device-list.ts";
import {
  type DeviceListDiff,
  diffDeviceLists,
  verifyDeviceList,
} from "../protocol/identity/device-list-verify.ts";
import { parseDeviceId, parseUserId } from "../protocol/identity/ids.ts";
import { asAccountPublicKey, asAccountSecretKey } from "../protocol/identity/keys.ts";
import { decryptDeviceName, encryptDeviceName } from "../protocol/profile/device-name.ts";
import type { ApiClient } from "./api-client.ts";
import type { DeviceState, Platform } from "./device.ts";

/** One of this account's devices, as the server lists it, with its name decrypted. */
export interface DeviceSummary {
  deviceId: string;
  platform: Platform;
  /** Absent when no name was set, or when it does not open (set under an older account key). */
  name?: string;
  createdAt: number;
  lastActiveAt?: number;
  current: boolean;
}

/**
 * This account's devices, with names decrypted by the account key. A name that does not
 * open leaves `name` out instead of failing the whole list.
 */
export async function listDevices(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
): Promise<DeviceSummary[]> {
  const devices = await api.request<Static<typeof DeviceInfo>[]>("GET", "/api/v1/devices");
  return Promise.all(
    devices.map(async ({ nameCiphertext, ...device }) => {
      const name = nameCiphertext
        ? await openDeviceName(ctx, state, device.deviceId, nameCiphertext)
        : undefined;
      return { ...device, ...(name !== undefined ? { name } : {}) };
    }),
  );
}

async function openDeviceName(
  ctx: ProtocolContext,
  state: DeviceState,
  deviceId: string,
  nameCiphertext: string,
): Promise<string | undefined> {
  try {
    return await decryptDeviceName(
      ctx,
      asAccountSecretKey(state.accountKeyPair.secretKey),
      state.userId,
      parseDeviceId(deviceId),
      fromBase64Url(nameCiphertext, "nameCiphertext"),
    );
  } catch (err) {
    if (err instanceof ParleyError) return undefined;
    throw err;
  }
}

/**
 * Names one of this account's devices (`undefined` clears the name). The name is encrypted
 * under the account key, bound to the account and the device: only the account's own
 * devices can read it. Names are 1–64 characters (protocol/profile/device-name.ts).
 */
export async function renameDevice(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
  deviceId: string,
  name: string | undefined,
): Promise<void> {
  const id = parseDeviceId(deviceId);
  const accountKey = asAccountSecretKey(state.accountKeyPair.secretKey);
  const sealed =
    name === undefined
      ? undefined
      : await encryptDeviceName(ctx, accountKey, state.userId, id, name);
  const body = sealed ? { nameCiphertext: toBase64Url(sealed) } : {};
  await api.request("PATCH", `/api/v1/devices/${id}`, { body });
}

/**
 * Removes a device: signs the next device-list version without it (with the account key) on
 * top of the newest list verified from this device's own copy, and sends it with the
 * request, so no one can serve the removed device again.
 */
export async function revokeDevice(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
  deviceId: string,
): Promise<void> {
  const id = parseDeviceId(deviceId);
  const { list: current } = await syncOwnDeviceList(ctx, api, state);
  const next = await nextDeviceList(
    ctx,
    asAccountSecretKey(state.accountKeyPair.secretKey),
    current,
    current.devices.filter((d) => d.deviceId !== id),
  );
  await api.request("DELETE", `/api/v1/devices/${id}`, {
    body: { deviceList: toBase64Url(encodeDeviceList(next)) },
  });
  state.deviceList = next;
}

/**
 * Fetches a user's device lists newer than `known` (the newest one the caller accepted for
 * this user; `undefined` on first contact), checks that they link version by version from
 * it and are signed by the account key, and returns the newest with what changed. An older
 * or forked list is refused (`device_list_rollback`), so a revoked device cannot be served
 * again. With nothing newer, `known` is checked again (it may have expired) and returned
 * with an empty diff; `diff` is undefined only without `known`.
 */
export async function fetchDeviceList(
  ctx: ProtocolContext,
  api: ApiClient,
  userId: string,
  accountKey: Uint8Array,
  known: DeviceList | undefined,
): Promise<{ list: DeviceList; hash: Uint8Array; diff: DeviceListDiff | undefined }> {
  const user = parseUserId(userId);
  const key = asAccountPublicKey(accountKey);
  const { lists } = await api.request<{ lists: { version: number; deviceList: string }[] }>(
    "GET",
    `/api/v1/users/${user}/device-lists?since=${known?.version ?? 0}`,
  );
  const decoded = lists.map((l) => decodeDeviceList(fromBase64Url(l.deviceList, "deviceList")));
  const newest = decoded.at(-1);
  if (!newest) {
    // The server answers `user_not_found` itself for a user without a list.
    if (!known) throw new ParleyError("user_not_found", undefined, { detail: "no device list" });
    const { hash } = await verifyDeviceList(ctx, key, known, { userId: user });
    return { list: known, hash, diff: { added: [], removed: [], rekeyed: [] } };
  }
  const verified = await verifyDeviceList(ctx, key, newest, {
    userId: user,
    latestSeen: known && { version: known.version, hash: await deviceListHash(ctx, known) },
    intermediates: decoded.slice(0, -1),
  });
  return {
    list: verified.list,
    hash: verified.hash,
    diff: known ? diffDeviceLists(known, verified.list) : undefined,
  };
}

/**
 * Brings this device's copy of its own account's device list up to date, from the copy it
 * has (see {@link fetchDeviceList}): the newest verified list, and what changed since that
 * copy (alert the person about added devices).
 */
export async function syncOwnDeviceList(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
): Promise<{ list: DeviceList; diff: DeviceListDiff | undefined }> {
  const { list, diff } = await fetchDeviceList(
    ctx,
    api,
    state.userId,
    state.accountKeyPair.publicKey,
    state.deviceList,
  );
  state.deviceList = list;
  return { list, diff };
}

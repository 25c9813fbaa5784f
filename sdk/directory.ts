import { USERNAME_PATTERN, type UserKeys } from "../protocol/api/accounts.ts";
import { fromBase64Url } from "../protocol/api/base64.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { ParleyError } from "../protocol/errors.ts";
import { decodeDeviceCertificate } from "../protocol/identity/device-certificate.ts";
import { type DeviceList, decodeDeviceList } from "../protocol/identity/device-list.ts";
import { verifyDeviceList } from "../protocol/identity/device-list-verify.ts";
import { type DeviceId, parseUserId } from "../protocol/identity/ids.ts";
import { asAccountPublicKey } from "../protocol/identity/keys.ts";
import { decodeSignedPrekey } from "../protocol/identity/prekey.ts";
import { verifyPrekeyBundle } from "../protocol/session/bundle.ts";
import type { PrekeyBundle } from "../protocol/session/pqxdh.ts";
import type { IdentityStore } from "../protocol/session/stores.ts";
import type { ApiClient } from "./api-client.ts";

/** The newest device list seen per user, so an older one served later is refused. */
export interface DeviceListMemory {
  get(userId: string): { version: number; hash: Uint8Array } | undefined;
  set(userId: string, head: { version: number; hash: Uint8Array }): void;
  /** After an identity reset the chain restarts: the old head no longer applies. */
  forget(userId: string): void;
}

/** A {@link DeviceListMemory} in memory (tests, or an app that persists it otherwise). */
export const memoryDeviceListMemory = (): DeviceListMemory => {
  const seen = new Map<string, { version: number; hash: Uint8Array }>();
  return {
    get: (u) => seen.get(u),
    set: (u, h) => void seen.set(u, h),
    forget: (u) => void seen.delete(u),
  };
};

/** What a device trusts about other users: their account keys and newest device lists. */
export interface TrustStores {
  identities: IdentityStore;
  deviceLists: DeviceListMemory;
}

/** One of a user's devices whose key bundle passed every check of `fetchVerifiedBundles`. */
export interface VerifiedDevice {
  deviceId: DeviceId;
  bundle: PrekeyBundle;
}

/**
 * Fetches a user's key bundles and checks them all before anything is encrypted:
 * - the account key is the one on record for the user (trust on first use); a different one
 *   is `untrusted_identity` — the contact's safety number changed, and nothing goes out
 *   until the person acknowledges it (`acknowledgeIdentityChange`);
 * - the device list is signed by that key, not older than one seen, not expired;
 * - every bundle belongs to a device in that list and is signed by the account key.
 * Devices missing from the list are never returned, so a revoked device gets nothing.
 */
export async function fetchVerifiedBundles(
  ctx: ProtocolContext,
  api: ApiClient,
  userId: string,
  trust: TrustStores,
): Promise<{ devices: VerifiedDevice[]; deviceList: DeviceList }> {
  const user = parseUserId(userId);
  const keys = await api.request<UserKeys>("GET", `/api/v1/users/${user}/keys`);
  const accountKey = asAccountPublicKey(fromBase64Url(keys.accountKey, "accountKey"));
  if (!(await trust.identities.isTrustedIdentity(user, accountKey))) {
    throw new ParleyError("untrusted_identity", undefined, {
      detail: `account key of ${user} changed`,
    });
  }
  const { list, head } = await verifyDeviceList(
    ctx,
    accountKey,
    decodeDeviceList(fromBase64Url(keys.deviceList, "deviceList")),
    { userId: user, latestSeen: trust.deviceLists.get(user) },
  );
  trust.deviceLists.set(user, head);
  const listed = new Set<string>(list.devices.map((d) => d.deviceId));
  const devices: VerifiedDevice[] = [];
  for (const d of keys.devices) {
    if (!listed.has(d.deviceId)) continue;
    const bundle = await verifyPrekeyBundle(
      ctx,
      {
        accountKey,
        certificate: decodeDeviceCertificate(fromBase64Url(d.certificate, "certificate")),
        signedPrekey: decodeSignedPrekey(fromBase64Url(d.signedPrekey, "signedPrekey")),
        ...(d.oneTimePrekey
          ? { oneTimePrekey: decodeSignedPrekey(fromBase64Url(d.oneTimePrekey, "oneTimePrekey")) }
          : {}),
        pqPrekey: decodeSignedPrekey(fromBase64Url(d.pqPrekey, "pqPrekey")),
      },
      { userId: user, deviceId: d.deviceId as DeviceId },
    );
    devices.push({ deviceId: d.deviceId as DeviceId, bundle });
  }
  return { devices, deviceList: list };
}

/**
 * The person has seen the new safety number: trust the new account key from now on, and
 * forget the device-list history of the old identity (its chain restarted).
 */
export async function acknowledgeIdentityChange(
  trust: TrustStores,
  userId: string,
  accountKey: Uint8Array,
): Promise<void> {
  await trust.identities.saveIdentity(userId, accountKey);
  trust.deviceLists.forget(userId);
}

/** Another user as the directory shows them (the profile is ciphertext, see sdk/profile.ts). */
export interface UserSummary {
  userId: string;
  username: string;
  accountKey: string;
  profileCiphertext?: string;
  lastSeenAt?: number;
}

const USERNAME = new RegExp(USERNAME_PATTERN);

/**
 * Finds a user by exact username; `user_not_found` when there is none. A name no account
 * can have is `invalid_request` (field `username`) before anything is sent: encoding alone
 * would let `..` through into the URL.
 */
export async function findUser(api: ApiClient, username: string): Promise<UserSummary> {
  const name = username.trim().toLowerCase();
  if (!USERNAME.test(name)) {
    throw new ParleyError("invalid_request", "This is not a valid username.", {
      field: "username",
    });
  }
  return api.request<UserSummary>("GET", `/api/v1/users/by-username/${name}`);
}

/** Usernames containing `query` (3 characters at least; `directory_disabled` if turned off). */
export const searchUsers = async (api: ApiClient, query: string) =>
  (
    await api.request<{ users: { userId: string; username: string }[] }>(
      "GET",
      `/api/v1/users/search?q=${encodeURIComponent(query)}`,
    )
  ).users;

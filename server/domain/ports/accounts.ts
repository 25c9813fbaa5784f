import type { DeviceId, DevicePlatform, UserId } from "../ports.ts";
import type { NewInvite } from "./invites.ts";

/**
 * Storage the accounts domain needs. Every method that changes several rows runs in one
 * transaction, and every rule that must hold across server processes (a one-time prekey
 * handed out once, an invite used at most its uses, the device limit, a device-list version
 * following the stored one) is checked in SQL inside it.
 */

/** What a registration or link stores for its device. */
export interface NewDeviceRecord {
  id: DeviceId;
  userId: UserId;
  identityKey: Uint8Array;
  certificate: Uint8Array;
  platform: DevicePlatform;
  secretHash: string;
  nameCiphertext: Uint8Array | null;
}

export interface DeviceListRecord {
  version: number;
  encoded: Uint8Array;
  hash: Uint8Array;
}

/** Prekeys to store, already verified: key id, public key and the whole signed encoding. */
export interface PrekeyRecord {
  keyId: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
  encoded: Uint8Array;
}

export interface PrekeyUploadRecord {
  signedPrekey?: PrekeyRecord;
  oneTimePrekeys: PrekeyRecord[];
  pqLastResort?: PrekeyRecord;
  pqOneTimePrekeys: PrekeyRecord[];
}

/** How a registration proves it may happen; consumed in the same transaction. */
export type ProofUse =
  | { kind: "open" }
  | { kind: "invite"; inviteId: string }
  | { kind: "otp"; challengeId: string };

export interface CreateAccountInput {
  user: {
    id: UserId;
    username: string;
    accountKey: Uint8Array;
    isAdmin: boolean;
    phone: string | null;
    /** Stored normalized (protocol/api/accounts.ts normalizeEmail). */
    email: string | null;
  };
  device: NewDeviceRecord;
  deviceList: DeviceListRecord;
  keys: PrekeyUploadRecord;
  proof: ProofUse;
  now: number;
}

export interface ResetIdentityInput {
  userId: UserId;
  accountKey: Uint8Array;
  device: NewDeviceRecord;
  deviceList: DeviceListRecord;
  keys: PrekeyUploadRecord;
  proof: ProofUse;
  /** An admin-created account claiming its username, or a verified phone/email. */
  username?: string;
  isAdmin?: boolean;
  /**
   * A recovery code (its hash) the reset spends in its own write: refused with
   * `second_factor_invalid` unless it is an unused code of the account.
   */
  recoveryCodeHash?: string;
  now: number;
}

export type AccountWriteError =
  | "username_taken"
  | "user_exists"
  | "device_exists"
  | "proof_used"
  | "device_limit"
  | "stale_device_list"
  | "second_factor_invalid";

export interface AccountRecord {
  id: UserId;
  username: string | null;
  accountKey: Uint8Array | null;
  isAdmin: boolean;
  phone: string | null;
  email: string | null;
  profileCiphertext: Uint8Array | null;
  lastSeenAt: number | null;
  lastSeenVisibility: "everyone" | "contacts" | "nobody";
  disabledAt: number | null;
  deletedAt: number | null;
  createdAt: number;
}

export interface DeviceRecord {
  id: DeviceId;
  userId: UserId;
  platform: DevicePlatform;
  identityKey: Uint8Array;
  certificate: Uint8Array;
  nameCiphertext: Uint8Array | null;
  createdAt: number;
  lastActiveAt: number | null;
  revokedAt: number | null;
}

/** What authenticating a request needs about its device, in one read. */
export interface DeviceAuthRecord {
  deviceId: DeviceId;
  userId: UserId;
  secretHash: string;
  tokensRevokedAt: number | null;
  deviceRevokedAt: number | null;
  userDisabledAt: number | null;
  userDeletedAt: number | null;
  isAdmin: boolean;
}

export interface AccountsStore {
  createAccount(input: CreateAccountInput): Promise<AccountWriteError | undefined>;
  /** Done: the ids of the old identity's devices, all removed (their sockets must close). */
  resetIdentity(
    input: ResetIdentityInput,
  ): Promise<AccountWriteError | "not_found" | { removedDeviceIds: DeviceId[] }>;
  /**
   * An admin-created account without devices, and in the same write the invite its owner
   * claims it with.
   */
  createPendingAccount(input: {
    id: UserId;
    username: string;
    isAdmin: boolean;
    now: number;
    claim: NewInvite;
  }): Promise<AccountWriteError | undefined>;
  findById(id: UserId): Promise<AccountRecord | undefined>;
  findByUsername(username: string): Promise<AccountRecord | undefined>;
  /** The accounts with these ids, in no particular order; unknown ids are left out. */
  findByIds(ids: UserId[]): Promise<AccountRecord[]>;
  /**
   * Accounts in id order after `afterId` (from the first when undefined), at most `limit`:
   * a full pass over every account, deleted ones included, such as the search reindex.
   */
  listAfter(afterId: UserId | undefined, limit: number): Promise<AccountRecord[]>;
  /** The account with this phone number or email address (emails compared normalized). */
  findByContact(contact: { phone?: string; email?: string }): Promise<AccountRecord | undefined>;
  searchUsernames(query: string, limit: number): Promise<{ id: UserId; username: string }[]>;
  setProfile(id: UserId, ciphertext: Uint8Array, now: number): Promise<void>;
  setLastSeenVisibility(id: UserId, visibility: AccountRecord["lastSeenVisibility"]): Promise<void>;
  touchLastSeen(id: UserId, deviceId: DeviceId, now: number): Promise<void>;
  /** Tombstone: keys, devices, tokens, contacts and profile go; the id stays taken. */
  deleteAccount(id: UserId, now: number): Promise<void>;
  countAdmins(): Promise<number>;
}

export interface DevicesStore {
  authInfo(deviceId: DeviceId): Promise<DeviceAuthRecord | undefined>;
  list(userId: UserId): Promise<DeviceRecord[]>;
  get(deviceId: DeviceId): Promise<DeviceRecord | undefined>;
  /** Adds a device with the next device-list version (checked against the stored one). */
  link(input: {
    device: NewDeviceRecord;
    deviceList: DeviceListRecord;
    previousHash: Uint8Array;
    keys: PrekeyUploadRecord;
    maxDevices: number;
    now: number;
  }): Promise<AccountWriteError | undefined>;
  rename(userId: UserId, deviceId: DeviceId, nameCiphertext: Uint8Array | null): Promise<boolean>;
  /** Removes a device (keys, tokens, tickets go) with the next device-list version. */
  revoke(input: {
    userId: UserId;
    deviceId: DeviceId;
    deviceList: DeviceListRecord;
    previousHash: Uint8Array;
    now: number;
  }): Promise<AccountWriteError | "not_found" | undefined>;
  /** The newest device list of a user, and the versions after `since`. */
  deviceLists(userId: UserId, since: number): Promise<DeviceListRecord[]>;
  latestDeviceList(userId: UserId): Promise<DeviceListRecord | undefined>;
}

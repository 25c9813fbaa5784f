import type { DeviceId, UserId } from "../ports.ts";
import type { PrekeyUploadRecord } from "./accounts.ts";

/** One device's published keys, as served (every value a protocol encoding). */
export interface DeviceBundleRecord {
  deviceId: DeviceId;
  certificate: Uint8Array;
  signedPrekey: Uint8Array;
  oneTimePrekey: Uint8Array | undefined;
  pqPrekey: Uint8Array;
  /** One-time X25519 prekeys left after this claim. */
  oneTimeLeft: number;
  /** One-time ML-KEM prekeys left after this claim (the last-resort one not counted). */
  pqOneTimeLeft: number;
}

/** The most one-time prekeys of each kind a device may have stored at once. */
export interface PrekeyCaps {
  oneTime: number;
  pqOneTime: number;
}

export interface KeysStore {
  /**
   * Stores verified prekeys; a key id already published for the device is refused, and so
   * is an upload that would leave the device more one-time prekeys of a kind than `caps`
   * (counted in the same transaction, so concurrent uploads cannot pass the cap together).
   */
  upload(
    deviceId: DeviceId,
    keys: PrekeyUploadRecord,
    now: number,
    caps: PrekeyCaps,
  ): Promise<"key_exists" | "limit_exceeded" | undefined>;
  counts(deviceId: DeviceId): Promise<{
    oneTime: number;
    pqOneTime: number;
    hasSignedPrekey: boolean;
    hasLastResort: boolean;
  }>;
  /**
   * The bundles of a user's devices (or one of them), each with a one-time prekey and a
   * one-time PQ prekey (else the last-resort one) claimed in SQL: never handed out twice.
   * A device without a signed prekey or any PQ prekey is left out, and nothing of it is
   * claimed. Each bundle says how many one-time prekeys of each kind are left.
   */
  claimBundles(userId: UserId, deviceId?: DeviceId): Promise<DeviceBundleRecord[]>;
}

export interface ContactRecord {
  contactUserId: UserId;
  nicknameCiphertext: Uint8Array | null;
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ContactsStore {
  list(userId: UserId): Promise<ContactRecord[]>;
  /** Creates or changes a contact; fields left undefined keep their value. */
  put(
    userId: UserId,
    contactUserId: UserId,
    changes: { nicknameCiphertext?: Uint8Array | null; blocked?: boolean },
    now: number,
  ): Promise<void>;
  remove(userId: UserId, contactUserId: UserId): Promise<boolean>;
  /** Has `userId` blocked `otherUserId`? (Messaging rejects what a blocked user sends.) */
  isBlocked(userId: UserId, otherUserId: UserId): Promise<boolean>;
  /** The users who have `userId` among their contacts, blocks aside. */
  listedBy(userId: UserId): Promise<UserId[]>;
  /** Is `otherUserId` among `userId`'s contacts (not blocked)? For last-seen visibility. */
  isContact(userId: UserId, otherUserId: UserId): Promise<boolean>;
}

export interface ProvisioningStore {
  create(input: { id: string; readerHash: string; now: number; expiresAt: number }): Promise<void>;
  /** Puts the envelope once; false when the slot is unknown, expired or already filled. */
  fill(id: string, envelope: Uint8Array, now: number): Promise<boolean>;
  /**
   * A live slot's reader hash and whether its envelope came in: a read only (no write
   * transaction), for waiting on the slot. Undefined when unknown or expired.
   */
  peek(id: string, now: number): Promise<{ readerHash: string; filled: boolean } | undefined>;
  /**
   * Takes the envelope and deletes the slot in one statement, so only one reader gets it;
   * undefined when the slot is unknown, expired or still empty.
   */
  take(id: string, now: number): Promise<Uint8Array | undefined>;
  /** Deletes expired slots. */
  sweep(now: number): Promise<void>;
}

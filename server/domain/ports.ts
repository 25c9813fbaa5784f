/**
 * What the domain needs from storage, as interfaces. server/store implements them with
 * drizzle; domain services and tests depend on these, never on SQL.
 */

/** Branded ids, so a device id is never passed where a user id is expected. */
export type UserId = string & { readonly __brand: "UserId" };
export type DeviceId = string & { readonly __brand: "DeviceId" };

export type DevicePlatform = "web" | "cli" | "desktop" | "android" | "ios";

export interface User {
  id: UserId;
  username: string | null;
  isAdmin: boolean;
  accountKey: Uint8Array | null;
  createdAt: number;
  disabledAt: number | null;
  deletedAt: number | null;
}

export interface Device {
  id: DeviceId;
  userId: UserId;
  identityKey: Uint8Array;
  certificate: Uint8Array;
  platform: DevicePlatform;
  createdAt: number;
  revokedAt: number | null;
}

/** A username already belongs to another account (a unique constraint, enforced in SQL). */
export class UsernameTakenError extends Error {
  constructor(readonly username: string) {
    super(`username '${username}' is taken`);
    this.name = "UsernameTakenError";
  }
}

export interface UsersRepository {
  create(input: { username: string; isAdmin?: boolean; now: number }): Promise<User>;
  findById(id: UserId): Promise<User | undefined>;
  findByUsername(username: string): Promise<User | undefined>;
}

export interface DevicesRepository {
  create(input: Omit<Device, "id" | "revokedAt">): Promise<Device>;
  listByUser(userId: UserId): Promise<Device[]>;
}

export interface SignedKey {
  keyId: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

export interface PrekeysRepository {
  /** Adds one-time prekeys; a key id already present for the device is an error. */
  addOneTime(deviceId: DeviceId, keys: SignedKey[]): Promise<void>;
  /**
   * Hands out one one-time prekey of the device and deletes it, atomically in SQL: two
   * claims, in one process or several, never get the same key. Undefined when none is left.
   */
  claimOneTime(deviceId: DeviceId): Promise<SignedKey | undefined>;
  countOneTime(deviceId: DeviceId): Promise<number>;
}

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  since?: number;
  /** Newest first; at most this many (default 100, at most 1000). */
  limit?: number;
}

export interface AuditRepository {
  append(entry: Omit<AuditEntry, "id">): Promise<void>;
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
}

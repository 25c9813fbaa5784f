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

/** Published prekeys, uploaded and claimed per device (server/domain/accounts/keys.ts). */
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

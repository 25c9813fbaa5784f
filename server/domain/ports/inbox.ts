import type { DeviceId, UserId } from "../ports.ts";

/** A to-device envelope: opaque pairwise ciphertext for one device. */
export interface InboxEnvelope {
  pos: number;
  deviceId: DeviceId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  envelope: Uint8Array;
  createdAt: number;
  expiresAt: number;
}

export interface InboxStore {
  /** Stores envelopes for several devices at once; returns them with their positions. */
  put(envelopes: Omit<InboxEnvelope, "pos">[]): Promise<InboxEnvelope[]>;
  /** Deletes a device's envelopes up to `pos` (acknowledged). */
  ack(deviceId: DeviceId, upToPos: number): Promise<number>;
  /** Deletes envelopes past their expiry; how many. */
  eraseExpired(now: number): Promise<number>;
}

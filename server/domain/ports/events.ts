import type { DeviceId, UserId } from "../ports.ts";

/** Events the server pushes to a device over its WebSocket (the messaging issue adds more). */
export type DeviceEvent =
  /**
   * A claim left the device fewer one-time X25519 prekeys than KEYS_LOW_ONE_TIME or fewer
   * one-time ML-KEM prekeys than KEYS_LOW_PQ_ONE_TIME (protocol/api/prekeys.ts): both
   * counts left, so the device refills whichever kind is low.
   */
  | { type: "keys_low"; oneTimePrekeys: number; pqOneTimePrekeys: number }
  | {
      type: "device_changed";
      userId: string;
      deviceListVersion: number;
      change: "added" | "removed" | "reset";
    }
  /** Another connection of the same device took over: this one closes. */
  | { type: "replaced" }
  /** The device was removed from its account: its connection closes. */
  | { type: "revoked" };

export interface EventSubscription {
  userId: UserId;
  deviceId: DeviceId;
  deliver(event: DeviceEvent): void;
}

/**
 * Fan-out of events to connected devices: in this process (server/bus/memory.ts), across
 * nodes through Redis later (messaging issue). Delivery is best effort: devices catch up
 * over HTTP when they reconnect.
 */
export interface EventBus {
  toDevice(deviceId: DeviceId, event: DeviceEvent): void;
  /** Every connected device of a user. */
  toUser(userId: UserId, event: DeviceEvent): void;
  /** Registers a connected device; returns the function that unregisters it. */
  subscribe(subscription: EventSubscription): () => void;
}

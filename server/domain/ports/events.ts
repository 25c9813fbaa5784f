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
  | { type: "revoked" }
  | NewMessageEvent
  /** A member's devices have a conversation up to `seq` (any of them). */
  | { type: "message_delivered"; conversationId: string; userId: string; seq: number }
  /** A member read a conversation up to `seq` (their own other devices get it too). */
  | { type: "message_read_update"; conversationId: string; userId: string; seq: number }
  | { type: "typing"; conversationId: string; userId: string; deviceId: string; typing: boolean }
  /** The user's first device connected, or their last one left (messaging/presence.ts). */
  | { type: "presence"; userId: string; online: boolean }
  | {
      type: "to_device";
      pos: number;
      senderUserId: string;
      senderDeviceId: string;
      /** base64url */
      envelope: string;
      createdAt: number;
    }
  | {
      type: "membership_changed";
      conversationId: string;
      epoch: number;
      /** The signed entry, base64url. */
      entry: string;
    };

/** A stored message as the WebSocket delivers it (binary values base64url). */
export interface MessageFrame {
  id: string;
  conversationId: string;
  seq: number;
  senderUserId: string;
  senderDeviceId: string;
  /** null once deleted for everyone or expired. */
  ciphertext: string | null;
  createdAt: number;
  expiresAt?: number;
  keyHeader?: string;
}

/**
 * A new message for every device of the members: each device gets only its own key header
 * (the gateway picks it from `keyHeaders`), and the sending device gets nothing (its send
 * was acknowledged).
 */
export interface NewMessageEvent {
  type: "new_message";
  message: MessageFrame;
  keyHeaders?: Record<string, string>;
  excludeDevice?: string;
}

export interface EventSubscription {
  userId: UserId;
  deviceId: DeviceId;
  deliver(event: DeviceEvent): void;
}

/**
 * Fan-out of events to connected devices: in this process (server/bus/memory.ts), or
 * across nodes through Redis (server/bus/redis.ts) when redis.url is set. Delivery is best effort: devices catch up
 * over HTTP when they reconnect.
 */
export interface EventBus {
  toDevice(deviceId: DeviceId, event: DeviceEvent): void;
  /** Every connected device of a user. */
  toUser(userId: UserId, event: DeviceEvent): void;
  /** Every connected device of these users: one publication for a whole conversation. */
  toUsers(userIds: readonly UserId[], event: DeviceEvent): void;
  /** Registers a connected device; returns the function that unregisters it. */
  subscribe(subscription: EventSubscription): () => void;
}

import type { PresenceStore } from "../domain/ports/presence.ts";
import type { DeviceId, UserId } from "../domain/ports.ts";

/**
 * This node's own view: open sockets counted per user and device. A device may briefly have
 * two here (its new socket opens before the one it replaces has closed), hence counts.
 */
export interface LocalPresence {
  /** Counts one more socket; true when it is the user's first here. */
  add(userId: UserId, deviceId: DeviceId): { firstOfUser: boolean; firstOfDevice: boolean };
  /** Counts one socket less; true when the user has none left here. */
  remove(
    userId: UserId,
    deviceId: DeviceId,
  ): { lastOfUser: boolean; lastOfDevice: boolean; known: boolean };
  has(userId: UserId): boolean;
  /** Each user with a connected device here, and those devices. */
  entries(): IterableIterator<[UserId, ReadonlyMap<DeviceId, number>]>;
}

export function localPresence(): LocalPresence {
  const byUser = new Map<UserId, Map<DeviceId, number>>();
  return {
    add(userId, deviceId) {
      let devices = byUser.get(userId);
      const firstOfUser = devices === undefined;
      if (!devices) {
        devices = new Map();
        byUser.set(userId, devices);
      }
      const count = devices.get(deviceId) ?? 0;
      devices.set(deviceId, count + 1);
      return { firstOfUser, firstOfDevice: count === 0 };
    },
    remove(userId, deviceId) {
      const devices = byUser.get(userId);
      const count = devices?.get(deviceId);
      if (!devices || count === undefined) {
        return { lastOfUser: !devices, lastOfDevice: true, known: false };
      }
      if (count > 1) devices.set(deviceId, count - 1);
      else devices.delete(deviceId);
      if (devices.size === 0) byUser.delete(userId);
      return { lastOfUser: devices.size === 0, lastOfDevice: count === 1, known: true };
    },
    has: (userId) => byUser.has(userId),
    entries: () => byUser.entries(),
  };
}

/** Presence for a node alone: its own sockets are all there is. */
export function memoryPresenceStore(): PresenceStore {
  const local = localPresence();
  return {
    // The count changes at the call, before the promise settles, as the port requires.
    connected: (userId, deviceId) => Promise.resolve(local.add(userId, deviceId).firstOfUser),
    disconnected: (userId, deviceId) => {
      const { lastOfUser, known } = local.remove(userId, deviceId);
      // A device never counted (a second close) changes nothing: no second "offline".
      return Promise.resolve(known && lastOfUser);
    },
    online: (userIds) => Promise.resolve(new Set(userIds.filter((u) => local.has(u)))),
    close: async () => {},
  };
}

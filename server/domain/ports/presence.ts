import type { DeviceId, UserId } from "../ports.ts";

/**
 * Which users have a connected device: in this process (server/presence/memory.ts), or
 * shared by every node through Redis (server/presence/redis.ts) when redis.url is set.
 * Ephemeral: nothing of it reaches the database.
 *
 * The gateway calls `connected` when a device's socket opens and `disconnected` when it
 * closes. A device counts as connected from the moment `connected` is called, before its
 * promise settles: a takeover (a device's new socket opens, then its old one closes, on
 * this node or another) never looks like the user went offline.
 */
export interface PresenceStore {
  /** True when this makes the user online: their first connected device anywhere. */
  connected(userId: UserId, deviceId: DeviceId): Promise<boolean>;
  /** True when the user has no connected device left. */
  disconnected(userId: UserId, deviceId: DeviceId): Promise<boolean>;
  /** The users among `userIds` with at least one connected device. */
  online(userIds: readonly UserId[]): Promise<Set<UserId>>;
  /** Stops refreshing this node's devices; what it registered expires on its own. */
  close(): Promise<void>;
}

import type { PresenceStore } from "../domain/ports/presence.ts";
import type { Logger } from "../lib/log.ts";
import { memoryPresenceStore } from "./memory.ts";
import { redisPresenceStore } from "./redis.ts";

export { memoryPresenceStore } from "./memory.ts";
export { type RedisPresenceStore, redisPresenceStore } from "./redis.ts";

/**
 * The presence store for this node: shared by every node through Redis when `redisUrl`
 * (config `redis.url`) is set, this process's sockets only when it is empty.
 */
export function createPresenceStore(
  redisUrl: string,
  options: { log?: Logger } = {},
): PresenceStore {
  return redisUrl === "" ? memoryPresenceStore() : redisPresenceStore(redisUrl, options);
}

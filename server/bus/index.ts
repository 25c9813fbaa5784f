import type { EventBus } from "../domain/ports/events.ts";
import type { Logger } from "../lib/log.ts";
import { memoryEventBus } from "./memory.ts";
import { redisEventBus } from "./redis.ts";

export { memoryEventBus } from "./memory.ts";
export { type RedisEventBus, redisEventBus } from "./redis.ts";

/** The bus a node runs with, and what it holds open until shutdown. */
export interface NodeEventBus extends EventBus {
  close(): Promise<void>;
}

/**
 * The event bus for this node: across every node through Redis when `redisUrl` (config
 * `redis.url`) is set, in this process only when it is empty.
 */
export function createEventBus(redisUrl: string, options: { log?: Logger } = {}): NodeEventBus {
  if (redisUrl !== "") return redisEventBus(redisUrl, options);
  return { ...memoryEventBus(), close: async () => {} };
}

import type { Logger } from "../log.ts";
import type { RateLimiter } from "./contract.ts";
import { memoryRateLimiter } from "./memory.ts";
import { redisRateLimiter } from "./redis.ts";

export type { RateLimitDecision, RateLimiter } from "./contract.ts";
export { type MemoryRateLimiter, memoryRateLimiter } from "./memory.ts";
export { type RedisRateLimiter, redisRateLimiter } from "./redis.ts";

/**
 * The rate limiter for this node: shared through Redis when `redisUrl` (config `redis.url`)
 * is set, so limits hold across every node; in this process only when it is empty.
 */
export function createRateLimiter(redisUrl: string, options: { log?: Logger } = {}): RateLimiter {
  return redisUrl === "" ? memoryRateLimiter() : redisRateLimiter(redisUrl, options);
}

/** The outcome of counting one more event against a limit. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Events still allowed in the current window after this one (0 when refused). */
  remaining: number;
  /** When refused: how long until one more event would be allowed, in ms (for Retry-After). */
  retryAfterMs: number;
}

/**
 * Sliding-window rate limiting. `hit` counts one event for `key` and says whether it stays
 * within `limit` events per `windowMs`; a refused event is not counted. Implementations:
 * in this process (server/lib/rate-limit/memory.ts) or shared by every node through Redis
 * (server/lib/rate-limit/redis.ts) when redis.url is set.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  /** Forgets a key's count. */
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

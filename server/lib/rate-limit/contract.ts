/**
 * The shape of the domain's rate-limit port (server/domain/ports/rate-limit.ts), mirrored
 * here because server/lib is a leaf and may not import server/domain. TypeScript's
 * structural typing makes these implementations satisfy the port; contract.test.ts
 * proves it at compile time, so the two cannot drift apart unnoticed.
 */

/** The outcome of counting one more event against a limit. */
export interface RateLimitDecision {
  allowed: boolean;
  /** Events still allowed in the current window after this one (0 when refused). */
  remaining: number;
  /** When refused: how long until one more event would be allowed, in ms (for Retry-After). */
  retryAfterMs: number;
}

/** Sliding-window rate limiting: at most `limit` events per `windowMs` for each key. */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision>;
  reset(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Rejects limits no window can honour. These come from config (already validated there),
 * so a bad value here is a bug and throws rather than silently allowing everything.
 */
export function checkLimitArgs(limit: number, windowMs: number): void {
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`rate limit must be a positive integer, got ${limit}`);
  }
  // Whole milliseconds: Redis PEXPIRE takes an integer, and both implementations must agree.
  if (!Number.isSafeInteger(windowMs) || windowMs < 1) {
    throw new RangeError(`rate-limit window must be a positive integer of ms, got ${windowMs}`);
  }
}

/** An allowed event that leaves `remaining` more in the window. */
export const allowed = (remaining: number): RateLimitDecision => ({
  allowed: true,
  remaining,
  retryAfterMs: 0,
});

/** A refused event; at least 1 ms so a caller never retries in a busy loop. */
export const refused = (retryAfterMs: number): RateLimitDecision => ({
  allowed: false,
  remaining: 0,
  retryAfterMs: Math.max(1, Math.ceil(retryAfterMs)),
});

import type { RateLimitDecision, RateLimiter } from "./ports/rate-limit.ts";
import type { AuditRepository } from "./ports.ts";

/** How many distinct refused keys are remembered, so a flood of keys cannot grow memory. */
const MAX_TRACKED = 10_000;

/**
 * A rate limiter that writes one audit entry (`rate_limit.refused`, target the limited key:
 * `budget:user` or `budget:address`) when a key is first refused, and no more until its
 * window reopens: operators see who hit a limit without one row per refused request.
 */
export function auditedRateLimiter(
  limiter: RateLimiter,
  audit: AuditRepository,
  now: () => number,
): RateLimiter {
  const refusedUntil = new Map<string, number>();
  return {
    async hit(key, limit, windowMs): Promise<RateLimitDecision> {
      const decision = await limiter.hit(key, limit, windowMs);
      if (decision.allowed) return decision;
      const at = now();
      if ((refusedUntil.get(key) ?? 0) > at) return decision;
      if (refusedUntil.size >= MAX_TRACKED) {
        for (const [k, until] of refusedUntil) if (until <= at) refusedUntil.delete(k);
        if (refusedUntil.size >= MAX_TRACKED) refusedUntil.clear();
      }
      refusedUntil.set(key, at + decision.retryAfterMs);
      await audit.append({
        at,
        actor: "server",
        action: "rate_limit.refused",
        target: key,
        details: { limit, windowMs },
      });
      return decision;
    },
    reset: (key) => limiter.reset(key),
    close: () => limiter.close(),
  };
}

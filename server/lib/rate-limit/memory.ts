import {
  allowed,
  checkLimitArgs,
  type RateLimitDecision,
  type RateLimiter,
  refused,
} from "./contract.ts";

/** How often idle keys are dropped; lazy pruning on `hit` handles the busy ones. */
export const SWEEP_INTERVAL_MS = 60_000;

export interface MemoryRateLimiterOptions {
  /** Milliseconds on any monotonic scale; defaults to `performance.now()`. Injected by tests. */
  now?: () => number;
  /** Period of the background sweep of expired keys. */
  sweepIntervalMs?: number;
}

/** The in-process limiter, plus what tests and metrics need to see its memory stay bounded. */
export interface MemoryRateLimiter extends RateLimiter {
  /** Drops expired events and keys left with none. Runs on a timer; exposed for tests. */
  sweep(): void;
  /** Keys currently tracked. */
  readonly size: number;
}

/** One key's accepted events, oldest first, and the window they were counted against. */
interface EventLog {
  times: number[];
  windowMs: number;
}

/**
 * Sliding-window rate limiter for a single process: a sliding log of the accepted events'
 * times per key. A log rather than the two-bucket "sliding window counter" because the
 * counter only approximates (it assumes events were spread evenly over the previous
 * bucket, so a burst can overshoot the limit); the log is exact, costs at most `limit`
 * numbers per key, and decides exactly like the Redis sorted set in redis.ts.
 *
 * Memory stays bounded: each hit prunes its key's expired events, and an unref'd timer
 * (cleared by `close`) drops keys whose events have all expired, so only keys with an
 * event inside their window are kept.
 */
export function memoryRateLimiter(options: MemoryRateLimiterOptions = {}): MemoryRateLimiter {
  const clock = options.now ?? (() => performance.now());
  const logs = new Map<string, EventLog>();
  // An injected wall clock may step back (NTP); never let time run backwards, so every
  // log stays sorted and pruning from its front stays correct.
  let latest = Number.NEGATIVE_INFINITY;
  const now = () => {
    latest = Math.max(latest, clock());
    return latest;
  };

  const prune = (log: EventLog, t: number) => {
    const cutoff = t - log.windowMs;
    let expired = 0;
    while (expired < log.times.length && log.times[expired]! <= cutoff) expired++;
    if (expired > 0) log.times.splice(0, expired);
  };

  const sweep = () => {
    const t = now();
    for (const [key, log] of logs) {
      // Sorted: the newest event decides whether anything in the log is still live.
      const newest = log.times.at(-1);
      if (newest === undefined || newest <= t - log.windowMs) logs.delete(key);
    }
  };

  const timer = setInterval(sweep, options.sweepIntervalMs ?? SWEEP_INTERVAL_MS);
  // The sweep must never be what keeps the process alive.
  timer.unref();

  return {
    async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
      checkLimitArgs(limit, windowMs);
      const t = now();
      let log = logs.get(key);
      if (log === undefined) {
        log = { times: [], windowMs };
        logs.set(key, log);
      }
      log.windowMs = windowMs;
      prune(log, t);
      const count = log.times.length;
      if (count < limit) {
        log.times.push(t);
        return allowed(limit - count - 1);
      }
      // One more fits once all but limit-1 of the live events have left the window.
      const blocking = log.times[count - limit]!;
      return refused(blocking + windowMs - t);
    },

    async reset(key: string): Promise<void> {
      logs.delete(key);
    },

    async close(): Promise<void> {
      clearInterval(timer);
      logs.clear();
    },

    sweep,

    get size() {
      return logs.size;
    },
  };
}

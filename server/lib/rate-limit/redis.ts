import { RedisClient } from "bun";
import type { Logger } from "../log.ts";
import {
  allowed,
  checkLimitArgs,
  type RateLimitDecision,
  type RateLimiter,
  refused,
} from "./contract.ts";
import { memoryRateLimiter } from "./memory.ts";

/** Every key this limiter writes starts with this, so it can share a Redis with others. */
export const KEY_PREFIX = "parley:rl:";
/** A rate-limit check sits on the request path: past this, decide locally instead. */
export const COMMAND_TIMEOUT_MS = 500;
/** Bound on establishing a connection, so a blackholed Redis cannot stall start-up. */
export const CONNECT_TIMEOUT_MS = 2_000;
/** While Redis is unreachable, try to reconnect at most this often. */
export const RECONNECT_INTERVAL_MS = 1_000;

/**
 * One atomic sliding-window step over a sorted set of accepted events (score = time in
 * ms, member unique). Time comes from the Redis server (`TIME`), so the nodes' clocks
 * never matter. Needs Redis >= 5 (effect replication, so TIME may precede writes).
 * KEYS[1] = key; ARGV = limit, windowMs, unique member. Returns {allowed, remaining, retryAfterMs}.
 */
const SLIDING_WINDOW_SCRIPT = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count < limit then
  redis.call('ZADD', key, now, ARGV[3])
  redis.call('PEXPIRE', key, window)
  return {1, limit - count - 1, 0}
end
local blocking = redis.call('ZRANGE', key, count - limit, count - limit, 'WITHSCORES')
return {0, 0, math.ceil(tonumber(blocking[2]) + window - now)}
`;
const SCRIPT_SHA = new Bun.CryptoHasher("sha1").update(SLIDING_WINDOW_SCRIPT).digest("hex");

export interface RedisRateLimiterOptions {
  /** Gets one warning when Redis becomes unreachable and one note when it is back. */
  log?: Logger;
  /** Called on every change of `healthy` (for metrics or a readiness check). */
  onHealthChange?: (healthy: boolean) => void;
  commandTimeoutMs?: number;
  reconnectIntervalMs?: number;
}

/** The Redis-backed limiter, with its health visible to the caller. */
export interface RedisRateLimiter extends RateLimiter {
  /** False while Redis is unreachable and decisions are made in this process only. */
  readonly healthy: boolean;
}

/**
 * Sliding-window rate limiter shared by every node through Redis (see SLIDING_WINDOW_SCRIPT).
 *
 * When Redis is unreachable or slow, `hit` neither throws nor blocks: it falls back to an
 * in-process limiter with the same limits. A messenger must stay available, yet failing
 * fully open would hand an attacker who can disturb Redis unlimited sign-in attempts; the
 * fallback keeps every limit per node (at worst nodes x limit in total) until Redis is back.
 * `healthy`, `onHealthChange` and one log line per outage make the degradation visible.
 */
export function redisRateLimiter(
  url: string,
  options: RedisRateLimiterOptions = {},
): RedisRateLimiter {
  const commandTimeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  const reconnectIntervalMs = options.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS;
  // No offline queue: a command sent while disconnected fails at once instead of waiting.
  // Reconnection is ours (reconnectSoon), because Bun's gives up for good after maxRetries.
  const client = new RedisClient(url, {
    enableOfflineQueue: false,
    autoReconnect: false,
    connectionTimeout: CONNECT_TIMEOUT_MS,
  });
  const fallback = memoryRateLimiter();
  // Members must be unique across nodes, or two events in the same microsecond would
  // collapse into one sorted-set entry and be counted once.
  const node = crypto.randomUUID();
  let sequence = 0;
  let healthy = true;
  let closed = false;
  let reconnecting = false;
  let lastConnectAt = Date.now();

  const setHealthy = (value: boolean, error?: unknown) => {
    if (value === healthy || closed) return;
    healthy = value;
    if (value) options.log?.info("rate limits shared through redis again");
    else {
      options.log?.warn("redis unreachable: rate limits are counted per node until it is back", {
        reason: error instanceof Error ? error.message : String(error),
      });
    }
    options.onHealthChange?.(value);
  };

  // Hits wait for the first connection only; later reconnects happen behind them.
  const firstConnect = client.connect().then(
    () => setHealthy(true),
    (error: unknown) => setHealthy(false, error),
  );

  const reconnectSoon = () => {
    if (closed || reconnecting || Date.now() - lastConnectAt < reconnectIntervalMs) return;
    reconnecting = true;
    lastConnectAt = Date.now();
    client
      .connect()
      .then(
        () => setHealthy(true),
        (error: unknown) => setHealthy(false, error),
      )
      .finally(() => {
        reconnecting = false;
      });
  };

  /** Runs a command against Redis, or returns undefined after marking it unhealthy. */
  const attempt = async <T>(command: () => Promise<T>): Promise<T | undefined> => {
    await firstConnect;
    if (!client.connected) {
      setHealthy(false, new Error("not connected"));
      reconnectSoon();
      return undefined;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply within ${commandTimeoutMs} ms`)),
        commandTimeoutMs,
      );
    });
    try {
      const result = await Promise.race([command(), timeout]);
      setHealthy(true);
      return result;
    } catch (error) {
      setHealthy(false, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  const evalScript = async (args: string[]): Promise<unknown> => {
    try {
      return await client.send("EVALSHA", [SCRIPT_SHA, "1", ...args]);
    } catch (error) {
      // First use on this server (or after SCRIPT FLUSH): EVAL loads it into the cache.
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return await client.send("EVAL", [SLIDING_WINDOW_SCRIPT, "1", ...args]);
    }
  };

  return {
    async hit(key: string, limit: number, windowMs: number): Promise<RateLimitDecision> {
      checkLimitArgs(limit, windowMs);
      const member = `${node}:${sequence++}`;
      const reply = await attempt(async () =>
        parseReply(await evalScript([KEY_PREFIX + key, String(limit), String(windowMs), member])),
      );
      return reply ?? fallback.hit(key, limit, windowMs);
    },

    async reset(key: string): Promise<void> {
      await fallback.reset(key);
      await attempt(() => client.send("DEL", [KEY_PREFIX + key]));
    },

    async close(): Promise<void> {
      closed = true;
      client.close();
      await fallback.close();
    },

    get healthy() {
      return healthy;
    },
  };
}

/** Reads the script's {allowed, remaining, retryAfterMs}; anything else counts as a failure. */
function parseReply(reply: unknown): RateLimitDecision {
  if (!Array.isArray(reply) || reply.length !== 3 || !reply.every(Number.isSafeInteger)) {
    throw new Error("unexpected reply from the rate-limit script");
  }
  const [ok, remaining, retryAfterMs] = reply as [number, number, number];
  return ok === 1 ? allowed(remaining) : refused(retryAfterMs);
}

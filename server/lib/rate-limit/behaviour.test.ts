/**
 * The port's contract, run against both implementations: memory with a fake clock,
 * Redis against a real redis-server with a short window and real waiting.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { fixedClock } from "../../../tests/support/deterministic.ts";
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from "../../../tests/support/redis.ts";
import type { RateLimiter } from "./contract.ts";
import { memoryRateLimiter } from "./memory.ts";
import { redisRateLimiter } from "./redis.ts";

interface Driver {
  name: string;
  skip: boolean;
  /** Short for Redis, where the tests wait in real time. */
  windowMs: number;
  create(): RateLimiter;
  /** Lets `ms` pass (Redis adds a little slack for scheduling and round trips). */
  advance(ms: number): Promise<void>;
}

let clock = fixedClock();
const memory: Driver = {
  name: "memory",
  skip: false,
  windowMs: 60_000,
  create: () => {
    clock = fixedClock();
    return memoryRateLimiter({ now: clock });
  },
  advance: async (ms) => clock.advance(ms),
};

const REDIS_SLACK_MS = 15;
const canRunRedis = redisServerAvailable();
let server: RedisServer | undefined;
const redis: Driver = {
  name: "redis",
  skip: !canRunRedis,
  windowMs: 300,
  create: () => redisRateLimiter(server!.url),
  advance: (ms) => Bun.sleep(ms + REDIS_SLACK_MS),
};

beforeAll(async () => {
  if (canRunRedis) server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

let seq = 0;
/** A key no other test (or earlier run against the same server) has used. */
const freshKey = () => `test:${process.pid}:${seq++}`;

for (const driver of [memory, redis]) {
  describe.skipIf(driver.skip)(`${driver.name} rate limiter`, () => {
    const W = driver.windowMs;
    let limiter: RateLimiter;
    const hits = async (key: string, n: number, limit: number) => {
      const out = [];
      for (let i = 0; i < n; i++) out.push(await limiter.hit(key, limit, W));
      return out;
    };
    const allowedCount = async (key: string, n: number, limit: number) =>
      (await hits(key, n, limit)).filter((d) => d.allowed).length;

    afterEach(async () => {
      await limiter?.close();
    });

    test("allows up to the limit, counting remaining down", async () => {
      limiter = driver.create();
      const decisions = await hits(freshKey(), 3, 3);
      expect(decisions).toEqual([
        { allowed: true, remaining: 2, retryAfterMs: 0 },
        { allowed: true, remaining: 1, retryAfterMs: 0 },
        { allowed: true, remaining: 0, retryAfterMs: 0 },
      ]);
    });

    test("refuses the next with 0 < retryAfterMs <= window", async () => {
      limiter = driver.create();
      const key = freshKey();
      await hits(key, 3, 3);
      const refused = await limiter.hit(key, 3, W);
      expect(refused.allowed).toBe(false);
      expect(refused.remaining).toBe(0);
      expect(refused.retryAfterMs).toBeGreaterThan(0);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(W);
    });

    test("allows again once the oldest event leaves the window", async () => {
      limiter = driver.create();
      const key = freshKey();
      await hits(key, 1, 2);
      await driver.advance(W * 0.3);
      await hits(key, 1, 2);
      const { retryAfterMs } = await limiter.hit(key, 2, W);
      expect(retryAfterMs).toBeLessThanOrEqual(W * 0.7);
      // Only the first event leaves then; the second still holds its place.
      await driver.advance(retryAfterMs);
      expect(await allowedCount(key, 3, 2)).toBe(1);
    });

    test("slides: no burst of twice the limit across a window edge", async () => {
      limiter = driver.create();
      const key = freshKey();
      expect(await allowedCount(key, 2, 4)).toBe(2);
      await driver.advance(W * 0.5);
      expect(await allowedCount(key, 3, 4)).toBe(2);
      // At 1.2 W the first two have left, the two from 0.5 W still count: a fixed window
      // that restarted at W would allow all four again here.
      await driver.advance(W * 0.7);
      expect(await allowedCount(key, 4, 4)).toBe(2);
    });

    test("refused hits are not counted", async () => {
      limiter = driver.create();
      const key = freshKey();
      expect(await allowedCount(key, 1, 2)).toBe(1);
      await driver.advance(W * 0.5);
      expect(await allowedCount(key, 1, 2)).toBe(1);
      await driver.advance(W * 0.1);
      expect(await allowedCount(key, 5, 2)).toBe(0);
      // Only the event from 0 has left; had the refusals at 0.6 W counted, all would still block.
      await driver.advance(W * 0.6);
      expect(await allowedCount(key, 2, 2)).toBe(1);
    });

    test("keys are independent", async () => {
      limiter = driver.create();
      const [a, b] = [freshKey(), freshKey()];
      expect(await allowedCount(a, 3, 2)).toBe(2);
      expect(await allowedCount(b, 3, 2)).toBe(2);
    });

    test("reset forgets a key", async () => {
      limiter = driver.create();
      const [a, b] = [freshKey(), freshKey()];
      await hits(a, 2, 2);
      await hits(b, 2, 2);
      await limiter.reset(a);
      expect(await allowedCount(a, 3, 2)).toBe(2);
      expect(await allowedCount(b, 1, 2)).toBe(0);
    });

    test("200 parallel hits with limit 50: exactly 50 allowed", async () => {
      limiter = driver.create();
      const key = freshKey();
      const decisions = await Promise.all(
        Array.from({ length: 200 }, () => limiter.hit(key, 50, 10_000)),
      );
      expect(decisions.filter((d) => d.allowed)).toHaveLength(50);
      const remaining = decisions.filter((d) => d.allowed).map((d) => d.remaining);
      expect(remaining.sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    });

    test("rejects limits no window can honour", async () => {
      limiter = driver.create();
      for (const [limit, windowMs] of [
        [0, 1000],
        [1.5, 1000],
        [1, 0],
        [1, Number.NaN],
      ] as const) {
        await expect(limiter.hit(freshKey(), limit, windowMs)).rejects.toThrow(RangeError);
      }
    });
  });
}

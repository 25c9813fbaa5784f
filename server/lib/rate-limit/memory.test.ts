import { expect, test } from "bun:test";
import { fixedClock } from "../../../tests/support/deterministic.ts";
import { memoryRateLimiter } from "./memory.ts";

const W = 10_000;

test("retryAfterMs is exact, and an event leaves the window exactly windowMs after it", async () => {
  const clock = fixedClock();
  const limiter = memoryRateLimiter({ now: clock });
  await limiter.hit("k", 2, W);
  clock.advance(4_000);
  await limiter.hit("k", 2, W);
  clock.advance(1_000);
  expect(await limiter.hit("k", 2, W)).toEqual({
    allowed: false,
    remaining: 0,
    retryAfterMs: 5_000,
  });
  clock.advance(4_999);
  expect((await limiter.hit("k", 2, W)).retryAfterMs).toBe(1);
  clock.advance(1);
  expect(await limiter.hit("k", 2, W)).toEqual({ allowed: true, remaining: 0, retryAfterMs: 0 });
  await limiter.close();
});

test("a lowered limit waits for enough events to leave, not just the oldest", async () => {
  const clock = fixedClock();
  const limiter = memoryRateLimiter({ now: clock });
  for (let i = 0; i < 4; i++) {
    await limiter.hit("k", 4, W);
    clock.advance(1_000);
  }
  // Events at 0, 1, 2, 3 s; now 4 s. One more under limit 2 needs a single live event,
  // so the ones at 0, 1 and 2 s must all have left: at 2 s + W.
  expect((await limiter.hit("k", 2, W)).retryAfterMs).toBe(W - 2_000);
  await limiter.close();
});

test("sweep drops keys whose events have all expired and keeps live ones", async () => {
  const clock = fixedClock();
  const limiter = memoryRateLimiter({ now: clock });
  for (let i = 0; i < 1_000; i++) await limiter.hit(`idle:${i}`, 5, W);
  clock.advance(W / 2);
  await limiter.hit("live", 5, W);
  expect(limiter.size).toBe(1_001);
  clock.advance(W / 2);
  limiter.sweep();
  expect(limiter.size).toBe(1);
  clock.advance(W / 2);
  limiter.sweep();
  expect(limiter.size).toBe(0);
  await limiter.close();
});

test("the sweep runs by itself on its timer", async () => {
  const clock = fixedClock();
  const limiter = memoryRateLimiter({ now: clock, sweepIntervalMs: 5 });
  await limiter.hit("k", 1, W);
  clock.advance(W);
  await Bun.sleep(30);
  expect(limiter.size).toBe(0);
  await limiter.close();
});

test("a clock that steps back never frees a slot early", async () => {
  let t = 100_000;
  const limiter = memoryRateLimiter({ now: () => t });
  await limiter.hit("k", 1, W);
  t -= 50_000;
  expect((await limiter.hit("k", 1, W)).allowed).toBe(false);
  t = 100_000 + W;
  expect((await limiter.hit("k", 1, W)).allowed).toBe(true);
  await limiter.close();
});

test("the default clock is the monotonic one", async () => {
  const limiter = memoryRateLimiter();
  expect((await limiter.hit("k", 1, 50)).allowed).toBe(true);
  expect((await limiter.hit("k", 1, 50)).allowed).toBe(false);
  await Bun.sleep(60);
  expect((await limiter.hit("k", 1, 50)).allowed).toBe(true);
  await limiter.close();
});

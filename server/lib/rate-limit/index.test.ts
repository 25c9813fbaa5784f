import { expect, test } from "bun:test";
import type {
  RateLimitDecision as PortDecision,
  RateLimiter as PortLimiter,
} from "../../domain/ports/rate-limit.ts";
import type { RateLimitDecision, RateLimiter } from "./contract.ts";
import { createRateLimiter } from "./index.ts";

// Compile-time proof that the mirrored types in contract.ts are the port's, both ways.
const toPort = (l: RateLimiter): PortLimiter => l;
const fromPort = (l: PortLimiter): RateLimiter => l;
const decisionToPort = (d: RateLimitDecision): PortDecision => d;
const decisionFromPort = (d: PortDecision): RateLimitDecision => d;

test("the implementations satisfy the domain port", () => {
  expect([toPort, fromPort, decisionToPort, decisionFromPort]).toHaveLength(4);
});

test("an empty redis URL means this process only; a URL means Redis", async () => {
  const local = createRateLimiter("");
  expect("sweep" in local).toBe(true);
  await local.close();
  // Nothing listens on port 1: the limiter is created anyway and degrades (see redis.test.ts).
  const shared = createRateLimiter("redis://127.0.0.1:1");
  expect("healthy" in shared).toBe(true);
  expect((await shared.hit("k", 1, 1_000)).allowed).toBe(true);
  await shared.close();
});

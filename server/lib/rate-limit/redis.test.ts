import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { RedisClient } from "bun";
import { captureLog } from "../../../tests/support/app.ts";
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from "../../../tests/support/redis.ts";
import { KEY_PREFIX, redisRateLimiter } from "./redis.ts";

const canRun = redisServerAvailable();

/** A child process that hits one key RL_HITS times when told "go" on stdin. */
const HAMMER = `
import { redisRateLimiter } from ${JSON.stringify(join(import.meta.dir, "redis.ts"))};
const { RL_URL, RL_KEY, RL_HITS, RL_LIMIT } = process.env;
const limiter = redisRateLimiter(RL_URL);
await limiter.reset("warm-up");
if (!limiter.healthy) throw new Error("child could not reach redis");
process.stdout.write("ready\\n");
for await (const _ of Bun.stdin.stream()) break;
// Small parallel batches, so both processes' scripts interleave on the server.
let allowed = 0;
for (let sent = 0; sent < Number(RL_HITS); sent += 5) {
  const batch = Array.from({ length: 5 }, () => limiter.hit(RL_KEY, Number(RL_LIMIT), 10000));
  for (const d of await Promise.all(batch)) if (d.allowed) allowed++;
}
process.stdout.write(allowed + "\\n");
await limiter.close();
`;

describe.skipIf(!canRun)("redis rate limiter", () => {
  let server: RedisServer;
  let admin: RedisClient;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new RedisClient(server.url);
  });
  afterAll(async () => {
    admin?.close();
    await server?.stop();
  });

  test("keys are namespaced and expire with their window", async () => {
    const limiter = redisRateLimiter(server.url);
    await limiter.hit("ns-check", 5, 2_000);
    expect(await admin.send("ZCARD", [`${KEY_PREFIX}ns-check`])).toBe(1);
    const ttl = (await admin.send("PTTL", [`${KEY_PREFIX}ns-check`])) as number;
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(2_000);
    expect(await admin.send("EXISTS", ["ns-check"])).toBe(0);
    await limiter.close();
  });

  test("reloads its script after the server forgot it (SCRIPT FLUSH)", async () => {
    const limiter = redisRateLimiter(server.url);
    expect((await limiter.hit("flush", 2, 5_000)).allowed).toBe(true);
    await admin.send("SCRIPT", ["FLUSH"]);
    expect(await limiter.hit("flush", 2, 5_000)).toMatchObject({ allowed: true, remaining: 0 });
    expect(limiter.healthy).toBe(true);
    await limiter.close();
  });

  test("two processes hammering one key: exactly `limit` allowed in total", async () => {
    const limit = 100;
    const env = { ...process.env, RL_URL: server.url, RL_KEY: "multi", RL_HITS: "150" };
    const children = [0, 1].map(() =>
      Bun.spawn([process.execPath, "-e", HAMMER], {
        env: { ...env, RL_LIMIT: String(limit) },
        stdin: "pipe",
        stdout: "pipe",
        stderr: "inherit",
      }),
    );
    const lines = children.map((c) => lineReader(c.stdout));
    for (const next of lines) expect(await next()).toBe("ready");
    for (const c of children) {
      c.stdin.write("go\n");
      await c.stdin.flush();
    }
    const counts = await Promise.all(lines.map(async (next) => Number(await next())));
    for (const c of children) expect(await c.exited).toBe(0);
    expect(counts[0]! + counts[1]!).toBe(limit);
  }, 10_000);

  test("a Redis that stops answering costs one timeout, not a hang", async () => {
    const own = await startRedisServer();
    const limiter = redisRateLimiter(own.url, { commandTimeoutMs: 100 });
    await limiter.hit("paused", 5, 1_000);
    own.pause();
    try {
      const started = performance.now();
      expect((await limiter.hit("paused", 5, 1_000)).allowed).toBe(true);
      expect(performance.now() - started).toBeLessThan(1_000);
      expect(limiter.healthy).toBe(false);
    } finally {
      own.resume();
      await limiter.close();
      await own.stop();
    }
  });

  test("Redis down: hit falls back to per-node limits, says so once, recovers", async () => {
    const own = await startRedisServer();
    const capture = captureLog();
    const changes: boolean[] = [];
    const limiter = redisRateLimiter(own.url, {
      log: capture.log,
      onHealthChange: (healthy) => changes.push(healthy),
      reconnectIntervalMs: 20,
    });
    expect((await limiter.hit("down", 3, 60_000)).allowed).toBe(true);
    expect(limiter.healthy).toBe(true);
    await own.stop();

    // No throw; the limit still holds, now counted in this process.
    const decisions = [];
    for (let i = 0; i < 5; i++) decisions.push(await limiter.hit("down", 3, 60_000));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, false, false]);
    expect(decisions[3]!.retryAfterMs).toBeGreaterThan(0);
    await limiter.reset("down");
    expect(limiter.healthy).toBe(false);
    const warnings = capture.entries().filter((e) => e.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("redis unreachable");

    await own.restart();
    const deadline = Date.now() + 3_000;
    while (!limiter.healthy && Date.now() < deadline) {
      await limiter.hit("recover", 1_000, 60_000);
      await Bun.sleep(25);
    }
    expect(limiter.healthy).toBe(true);
    expect(changes).toEqual([false, true]);
    expect(capture.entries().filter((e) => e.level === "info")).toHaveLength(1);
    await limiter.close();
    await own.stop();
  });

  test("Redis unreachable from the start: hit does not throw", async () => {
    const own = await startRedisServer();
    await own.stop();
    const limiter = redisRateLimiter(own.url);
    expect(await limiter.hit("never", 1, 1_000)).toMatchObject({ allowed: true });
    expect((await limiter.hit("never", 1, 1_000)).allowed).toBe(false);
    expect(limiter.healthy).toBe(false);
    await limiter.close();
  });
});

/** Reads a child's stdout line by line. */
function lineReader(stream: ReadableStream<Uint8Array>): () => Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  return async () => {
    for (;;) {
      const end = buffered.indexOf("\n");
      if (end >= 0) {
        const line = buffered.slice(0, end);
        buffered = buffered.slice(end + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) return buffered;
      buffered += decoder.decode(value);
    }
  };
}

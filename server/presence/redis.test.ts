// The Redis presence store against a real redis-server, with several stores as several
// nodes: one view across nodes, takeovers across nodes, a crashed node's devices expiring by
// themselves, and an outage answered from the node's own view, logged once, then repaired.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { captureLog } from "../../tests/support/app.ts";
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from "../../tests/support/redis.ts";
import type { DeviceId, UserId } from "../domain/ports.ts";
import { createPresenceStore } from "./index.ts";
import { HEARTBEATS_TO_LIVE, KEY_PREFIX, redisPresenceStore } from "./redis.ts";

const canRun = redisServerAvailable();

const FAST = { reconnectIntervalMs: 20, connectTimeoutMs: 200, commandTimeoutMs: 200 };

let seq = 0;
const user = () => `user-${process.pid}-${seq++}` as UserId;
const device = () => `device-${process.pid}-${seq++}` as DeviceId;

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

test("an empty redis URL means this process only; a URL means Redis", async () => {
  const local = createPresenceStore("");
  expect("healthy" in local).toBe(false);
  await local.close();
  // Nothing listens on port 1: the store is created anyway and answers from this node.
  const shared = createPresenceStore("redis://127.0.0.1:1", {});
  expect("healthy" in shared).toBe(true);
  const u = user();
  expect(await shared.connected(u, device())).toBe(true);
  expect(await shared.online([u])).toEqual(new Set([u]));
  await shared.close();
});

describe.skipIf(!canRun)("redis presence store", () => {
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

  test("one view across nodes: online on A is online on B, offline once the last device goes", async () => {
    const a = redisPresenceStore(server.url);
    const b = redisPresenceStore(server.url);
    const [u, phone, laptop] = [user(), device(), device()];
    expect(await a.connected(u, phone)).toBe(true);
    expect(await b.online([u])).toEqual(new Set([u]));
    // The user's second device, on the other node: not a new "online".
    expect(await b.connected(u, laptop)).toBe(false);
    expect(await a.disconnected(u, phone)).toBe(false);
    expect(await a.online([u])).toEqual(new Set([u]));
    expect(await b.disconnected(u, laptop)).toBe(true);
    expect(await a.online([u])).toEqual(new Set());
    expect(await admin.exists(KEY_PREFIX + u)).toBe(false);
    await a.close();
    await b.close();
  });

  test("a takeover across nodes: the old node's close leaves the new node's device", async () => {
    const a = redisPresenceStore(server.url);
    const b = redisPresenceStore(server.url);
    const [u, phone] = [user(), device()];
    expect(await a.connected(u, phone)).toBe(true);
    // The device's new socket on B, then its old one on A closes.
    expect(await b.connected(u, phone)).toBe(false);
    expect(await a.disconnected(u, phone)).toBe(false);
    expect(await a.online([u])).toEqual(new Set([u]));
    expect(await b.disconnected(u, phone)).toBe(true);
    await a.close();
    await b.close();
  });

  test("what Redis holds: per user a hash of device → alive-until and node, with a TTL", async () => {
    const heartbeatIntervalMs = 1_000;
    const a = redisPresenceStore(server.url, { heartbeatIntervalMs });
    const [u, phone] = [user(), device()];
    await a.connected(u, phone);
    const fields = (await admin.hgetall(KEY_PREFIX + u)) as Record<string, string>;
    expect(Object.keys(fields)).toEqual([phone]);
    const [aliveUntil, node] = fields[phone]!.split(":");
    const [seconds, micros] = (await admin.send("TIME", [])) as string[];
    const ahead = Number(aliveUntil) - (Number(seconds) * 1000 + Number(micros) / 1000);
    expect(ahead).toBeGreaterThan(heartbeatIntervalMs * HEARTBEATS_TO_LIVE - 500);
    expect(ahead).toBeLessThanOrEqual(heartbeatIntervalMs * HEARTBEATS_TO_LIVE);
    expect(node).toMatch(/^[0-9a-f-]{36}$/);
    const pttl = (await admin.send("PTTL", [KEY_PREFIX + u])) as number;
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(heartbeatIntervalMs * HEARTBEATS_TO_LIVE);
    await a.disconnected(u, phone);
    await a.close();
  });

  test("a crashed node's devices expire by themselves; a live node's heartbeat keeps its own", async () => {
    const heartbeatIntervalMs = 100; // alive for 3 heartbeats: 300 ms
    const ttlMs = heartbeatIntervalMs * HEARTBEATS_TO_LIVE;
    const crashing = redisPresenceStore(server.url, { heartbeatIntervalMs });
    const living = redisPresenceStore(server.url, { heartbeatIntervalMs });
    const [gone, staying] = [user(), user()];
    const goneDevice = device();
    await crashing.connected(gone, goneDevice);
    await living.connected(staying, device());
    // Several lifetimes pass: the heartbeats keep both online.
    await Bun.sleep(ttlMs * 3);
    expect(await living.online([gone, staying])).toEqual(new Set([gone, staying]));

    // The node dies without closing its sockets: no disconnect ever reaches Redis.
    await crashing.close();
    expect(await living.online([gone])).toEqual(new Set([gone]));
    await until(async () => (await living.online([gone])).size === 0, ttlMs * 4);
    // The key went with its last field.
    await until(async () => !(await admin.exists(KEY_PREFIX + gone)), ttlMs * 2);
    expect(await living.online([staying])).toEqual(new Set([staying]));
    // The user's next device anywhere makes them online again.
    expect(await living.connected(gone, device())).toBe(true);
    // An expired field counts as gone for the disconnect too.
    const another = redisPresenceStore(server.url, { heartbeatIntervalMs });
    const [u, lost, current] = [user(), device(), device()];
    await another.connected(u, lost);
    await another.close();
    await living.connected(u, current);
    await Bun.sleep(ttlMs * 2);
    expect(await living.disconnected(u, current)).toBe(true);
    await living.close();
  });

  test("Redis down: answers from this node, one warning, no secret; repaired once back", async () => {
    const own = await startRedisServer();
    // The default user has no password, so Redis accepts any: this one must not be logged.
    const url = own.url.replace("redis://", "redis://default:hunter2-secret@");
    const capture = captureLog();
    const a = redisPresenceStore(url, { ...FAST, log: capture.log });
    const b = redisPresenceStore(url, FAST);
    const [before, during, elsewhere] = [user(), user(), user()];
    await a.connected(before, device());
    await b.connected(elsewhere, device());

    await own.stop();
    const duringDevice = device();
    // From A's own sockets: its users only; B's user cannot be seen.
    expect(await a.connected(during, duringDevice)).toBe(true);
    expect(a.healthy).toBe(false);
    expect(await a.online([before, during, elsewhere])).toEqual(new Set([before, during]));
    await Bun.sleep(150); // several failed reconnects, still one warning
    const warnings = capture.entries().filter((e) => e.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("redis unreachable");
    expect(capture.text()).not.toContain("hunter2-secret");

    // Redis comes back empty (no persistence): each node writes its devices again at once,
    // without waiting for its next heartbeat (30 s by default).
    await own.restart();
    await until(() => a.healthy && b.healthy);
    const everyone = new Set([before, during, elsewhere]);
    await until(async () => (await b.online([...everyone])).size === 3);
    expect(await a.online([...everyone])).toEqual(everyone);
    expect(capture.entries().filter((e) => e.level === "info")).toHaveLength(1);
    expect(capture.entries().filter((e) => e.level === "warn")).toHaveLength(1);
    expect(await a.disconnected(during, duringDevice)).toBe(true);
    await a.close();
    await b.close();
    await own.stop();
  }, 10_000);

  test("a Redis that stops answering: no wait past the command timeout", async () => {
    const own = await startRedisServer();
    const capture = captureLog();
    const a = redisPresenceStore(own.url, { ...FAST, log: capture.log });
    const [u, phone] = [user(), device()];
    await a.connected(u, phone);
    own.pause();
    try {
      const started = Date.now();
      expect(await a.disconnected(u, phone)).toBe(true);
      expect(await a.connected(u, phone)).toBe(true);
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(a.healthy).toBe(false);
      expect(capture.entries().filter((e) => e.level === "warn")).toHaveLength(1);
    } finally {
      own.resume();
    }
    await until(() => a.healthy);
    await a.close();
    await own.stop();
  });

  test("a device that left while Redis was unreachable is removed once it is back", async () => {
    const own = await startRedisServer();
    const ownAdmin = new RedisClient(own.url);
    const a = redisPresenceStore(own.url, FAST);
    const b = redisPresenceStore(own.url, FAST);
    const [u, phone] = [user(), device()];
    await a.connected(u, phone);
    await b.online([u]); // B connected too
    // Redis keeps its data but refuses the nodes: a password now, their connections cut.
    await ownAdmin.send("CONFIG", ["SET", "requirepass", "locked-out"]);
    await ownAdmin.send("CLIENT", ["KILL", "TYPE", "normal", "SKIPME", "yes"]);
    await until(() => !a.healthy && !b.healthy);
    expect(await a.disconnected(u, phone)).toBe(true);
    expect(await ownAdmin.hgetall(KEY_PREFIX + u)).toHaveProperty(phone);

    await ownAdmin.send("CONFIG", ["SET", "requirepass", ""]);
    await until(() => a.healthy && b.healthy);
    // Removed by A at once, long before the field would expire (90 s by default).
    await until(async () => (await b.online([u])).size === 0);
    expect(await ownAdmin.exists(KEY_PREFIX + u)).toBe(false);
    ownAdmin.close();
    await a.close();
    await b.close();
    await own.stop();
  });

  test("unreachable from the start: no throw, this node's view, close stops reconnecting", async () => {
    const own = await startRedisServer();
    await own.stop();
    const capture = captureLog();
    const a = redisPresenceStore(own.url, { ...FAST, log: capture.log });
    const u = user();
    expect(await a.connected(u, device())).toBe(true);
    expect(await a.online([u])).toEqual(new Set([u]));
    expect(a.healthy).toBe(false);
    await a.close();
    await own.restart();
    await Bun.sleep(100);
    const ownAdmin = new RedisClient(own.url);
    expect(await ownAdmin.send("DBSIZE", [])).toBe(0);
    ownAdmin.close();
    expect(capture.entries().filter((e) => e.level === "info")).toHaveLength(0);
    await own.stop();
  });
});

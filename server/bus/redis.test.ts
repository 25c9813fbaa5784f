// The Redis bus against a real redis-server: delivery across buses (nodes), each bus ignoring
// its own publications, local delivery through an outage, one warning per outage, recovery.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { captureLog } from "../../tests/support/app.ts";
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from "../../tests/support/redis.ts";
import type { DeviceEvent } from "../domain/ports/events.ts";
import type { DeviceId, UserId } from "../domain/ports.ts";
import { createEventBus } from "./index.ts";
import { CHANNEL, type RedisEventBus, redisEventBus } from "./redis.ts";

const canRun = redisServerAvailable();

const FAST = { reconnectIntervalMs: 20, connectTimeoutMs: 200 };
const EVENT: DeviceEvent = { type: "keys_low", oneTimePrekeys: 1, pqOneTimePrekeys: 2 };

let seq = 0;
/** A device of a user, subscribed to `bus`, recording what it receives. */
function device(bus: RedisEventBus, userId = `user-${seq++}`) {
  const received: DeviceEvent[] = [];
  const ids = { userId: userId as UserId, deviceId: `device-${seq++}` as DeviceId };
  const unsubscribe = bus.subscribe({ ...ids, deliver: (e) => received.push(e) });
  return { ...ids, received, unsubscribe };
}

async function until(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(10);
  }
}

/** Waits until `n` connections listen on CHANNEL, so a publication reaches them all. */
async function subscribers(admin: RedisClient, n: number): Promise<void> {
  const count = async () => ((await admin.send("PUBSUB", ["NUMSUB", CHANNEL])) as unknown[])[1];
  const deadline = Date.now() + 3_000;
  while ((await count()) !== n) {
    if (Date.now() > deadline) throw new Error(`expected ${n} subscribers on ${CHANNEL}`);
    await Bun.sleep(10);
  }
}

test("an empty redis URL means this process only; a URL means Redis", async () => {
  const local = createEventBus("");
  expect("healthy" in local).toBe(false);
  await local.close();
  // Nothing listens on port 1: the bus is created anyway and delivers locally.
  const shared = createEventBus("redis://127.0.0.1:1");
  expect("healthy" in shared).toBe(true);
  await shared.close();
});

describe.skipIf(!canRun)("redis event bus", () => {
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

  test("events reach devices on the other node, and each device once", async () => {
    const a = redisEventBus(server.url);
    const b = redisEventBus(server.url);
    await subscribers(admin, 2);
    const onA = device(a);
    const onB = device(b, onA.userId);
    const otherOnB = device(b);

    a.toUser(onA.userId, EVENT);
    await until(() => onB.received.length === 1);
    b.toDevice(onA.deviceId, { type: "replaced" });
    await until(() => onA.received.length === 2);
    await Bun.sleep(50);
    // A's own publication came back to it over Redis and was ignored: no second copy.
    expect(onA.received).toEqual([EVENT, { type: "replaced" }]);
    expect(onB.received).toEqual([EVENT]);
    expect(otherOnB.received).toEqual([]);
    await a.close();
    await b.close();
  });

  test("what goes on the wire is the event, whom it is for and the node; junk is ignored", async () => {
    const a = redisEventBus(server.url);
    const onA = device(a);
    const spy = new RedisClient(server.url);
    const seen: string[] = [];
    await spy.subscribe(CHANNEL, (m) => seen.push(m));
    await subscribers(admin, 2);
    for (const junk of ["not json", "null", "{}", JSON.stringify({ node: "x", to: "all" })])
      await admin.publish(CHANNEL, junk);
    const other = { node: "another-node", to: "device", id: onA.deviceId, event: EVENT };
    await admin.publish(CHANNEL, JSON.stringify(other));
    await until(() => onA.received.length === 1);
    expect(onA.received).toEqual([EVENT]);

    a.toDevice(onA.deviceId, { type: "revoked" });
    await until(() => seen.length === 6);
    const envelope = JSON.parse(seen[5]!);
    expect(Object.keys(envelope).sort()).toEqual(["event", "id", "node", "to"]);
    expect(envelope).toMatchObject({ to: "device", id: onA.deviceId, event: { type: "revoked" } });
    spy.close();
    await a.close();
  });

  test("Redis down: local delivery goes on, one warning, no secret; back when Redis is", async () => {
    const own = await startRedisServer();
    const ownAdmin = new RedisClient(own.url);
    // The default user has no password, so Redis accepts any: this one must not be logged.
    const url = own.url.replace("redis://", "redis://default:hunter2-secret@");
    const capture = captureLog();
    const a = redisEventBus(url, { ...FAST, log: capture.log });
    const b = redisEventBus(url, FAST);
    await subscribers(ownAdmin, 2);
    ownAdmin.close();
    const onA = device(a);
    const onB = device(b, onA.userId);

    await own.stop();
    await until(() => !a.healthy);
    for (let i = 0; i < 5; i++) a.toUser(onA.userId, EVENT);
    expect(onA.received).toHaveLength(5);
    await Bun.sleep(200); // several failed reconnects, still one warning
    expect(onB.received).toEqual([]);
    const warnings = capture.entries().filter((e) => e.level === "warn");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("redis unreachable");
    expect(capture.text()).not.toContain("hunter2-secret");

    await own.restart();
    await until(() => a.healthy && b.healthy);
    const restarted = new RedisClient(own.url);
    await subscribers(restarted, 2);
    restarted.close();
    a.toDevice(onA.deviceId, { type: "replaced" });
    b.toUser(onA.userId, { type: "revoked" });
    await until(() => onA.received.length === 7);
    expect(onA.received.slice(5)).toEqual([{ type: "replaced" }, { type: "revoked" }]);
    expect(onB.received).toEqual([{ type: "revoked" }]);
    expect(capture.entries().filter((e) => e.level === "info")).toHaveLength(1);
    expect(capture.entries().filter((e) => e.level === "warn")).toHaveLength(1);
    await a.close();
    await b.close();
    await own.stop();
  }, 10_000);

  test("a Redis that stops answering: events are not queued without bound", async () => {
    const own = await startRedisServer();
    const capture = captureLog();
    const a = redisEventBus(own.url, { ...FAST, log: capture.log });
    const ownAdmin = new RedisClient(own.url);
    await subscribers(ownAdmin, 1);
    ownAdmin.close();
    const onA = device(a);
    own.pause();
    try {
      for (let i = 0; i < 1_500; i++) a.toDevice(onA.deviceId, EVENT);
      expect(onA.received).toHaveLength(1_500);
      expect(a.healthy).toBe(false);
      expect(capture.entries().filter((e) => e.level === "warn")).toHaveLength(1);
    } finally {
      own.resume();
    }
    await until(() => a.healthy);
    await a.close();
    await own.stop();
  });

  test("unreachable from the start: no throw, local delivery, close stops reconnecting", async () => {
    const own = await startRedisServer();
    await own.stop();
    const capture = captureLog();
    const a = redisEventBus(own.url, { ...FAST, log: capture.log });
    const onA = device(a);
    a.toDevice(onA.deviceId, EVENT);
    expect(onA.received).toEqual([EVENT]);
    await until(() => !a.healthy);
    await a.close();
    await own.restart();
    await Bun.sleep(100);
    const ownAdmin = new RedisClient(own.url);
    expect(await ownAdmin.send("PUBSUB", ["NUMSUB", CHANNEL])).toEqual([CHANNEL, 0]);
    ownAdmin.close();
    expect(capture.entries().filter((e) => e.level === "info")).toHaveLength(0);
    await own.stop();
  });
});

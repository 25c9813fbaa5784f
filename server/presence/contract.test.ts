/**
 * The port's contract, run against both implementations: the in-process store, and the
 * Redis store against a real redis-server (one node here; redis.test.ts has several).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  type RedisServer,
  redisServerAvailable,
  startRedisServer,
} from "../../tests/support/redis.ts";
import type { PresenceStore } from "../domain/ports/presence.ts";
import type { DeviceId, UserId } from "../domain/ports.ts";
import { memoryPresenceStore } from "./memory.ts";
import { redisPresenceStore } from "./redis.ts";

const canRunRedis = redisServerAvailable();
let server: RedisServer | undefined;
beforeAll(async () => {
  if (canRunRedis) server = await startRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

const drivers: { name: string; skip: boolean; create(): PresenceStore }[] = [
  { name: "memory", skip: false, create: memoryPresenceStore },
  { name: "redis", skip: !canRunRedis, create: () => redisPresenceStore(server!.url) },
];

let seq = 0;
/** Ids no other test (or earlier run against the same server) has used. */
const user = () => `user-${process.pid}-${seq++}` as UserId;
const device = () => `device-${process.pid}-${seq++}` as DeviceId;

for (const driver of drivers) {
  describe.skipIf(driver.skip)(`${driver.name} presence store`, () => {
    let store: PresenceStore;
    beforeAll(() => {
      store = driver.create();
    });
    afterAll(() => store.close());

    test("the first device makes the user online; the last one gone, offline", async () => {
      const [u, phone, laptop] = [user(), device(), device()];
      expect(await store.online([u])).toEqual(new Set());
      expect(await store.connected(u, phone)).toBe(true);
      expect(await store.connected(u, laptop)).toBe(false);
      expect(await store.online([u])).toEqual(new Set([u]));
      // One of two devices leaves: still online.
      expect(await store.disconnected(u, phone)).toBe(false);
      expect(await store.online([u])).toEqual(new Set([u]));
      expect(await store.disconnected(u, laptop)).toBe(true);
      expect(await store.online([u])).toEqual(new Set());
      // Back again: online again.
      expect(await store.connected(u, phone)).toBe(true);
      expect(await store.disconnected(u, phone)).toBe(true);
    });

    test("a takeover (new socket, then the old one closes) never looks offline", async () => {
      const [u, phone] = [user(), device()];
      expect(await store.connected(u, phone)).toBe(true);
      expect(await store.connected(u, phone)).toBe(false);
      expect(await store.disconnected(u, phone)).toBe(false);
      expect(await store.online([u])).toEqual(new Set([u]));
      expect(await store.disconnected(u, phone)).toBe(true);
    });

    test("the device counts from the call, before its promise settles", async () => {
      const [u, phone] = [user(), device()];
      const first = store.connected(u, phone);
      const second = store.connected(u, phone);
      const old = store.disconnected(u, phone);
      expect(await Promise.all([first, second, old])).toEqual([true, false, false]);
      expect(await store.disconnected(u, phone)).toBe(true);
    });

    test("a device that was never connected, or closes twice, changes nothing", async () => {
      const [u, phone, stranger] = [user(), device(), device()];
      expect(await store.disconnected(u, stranger)).toBe(false);
      await store.connected(u, phone);
      expect(await store.disconnected(u, phone)).toBe(true);
      expect(await store.disconnected(u, phone)).toBe(false);
    });

    test("online: only the connected users among those asked, each once", async () => {
      const [a, b, c] = [user(), user(), user()];
      await store.connected(a, device());
      await store.connected(c, device());
      expect(await store.online([a, b, c, a])).toEqual(new Set([a, c]));
      expect(await store.online([])).toEqual(new Set());
    });
  });
}

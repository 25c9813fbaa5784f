// Several Parley nodes on one database and one Redis: an event caused on one node reaches
// sockets on the other, a device keeps one socket across nodes, a Redis outage costs only
// cross-node delivery, logged once, until Redis is back, and presence is one view across
// the nodes (presence frames, and who gets a push).
import { afterAll, describe, expect, test } from "bun:test";
import { RedisClient } from "bun";
import { ApiClient } from "../sdk/api-client.ts";
import { CHANNEL } from "../server/bus/redis.ts";
import {
  expectStatus,
  frame,
  framesOf,
  type MessagingFixture,
  messagingFixture,
  type Socket,
} from "./messaging/support.ts";
import { type AccountsFixture, accountsFixture, type TestUser } from "./support/accounts.ts";
import { fetchTransport } from "./support/client.ts";
import { type RedisServer, redisServerAvailable, startRedisServer } from "./support/redis.ts";
import { openSocket } from "./support/ws.ts";

const canRun = redisServerAvailable();

/** Two nodes sharing node A's data directory (SQLite in WAL mode) and one redis-server. */
async function twoNodes(redis: RedisServer) {
  const env = { PARLEY_REDIS_URL: redis.url };
  const a = await accountsFixture(env);
  const b = await accountsFixture(env, { sharedDataDir: a.server.dataDir });
  await bothSubscribed(redis);
  return {
    a,
    b,
    async cleanup() {
      // B first: A owns the data directory and removes it.
      await b.cleanup();
      await a.cleanup();
    },
  };
}

/** Waits until both nodes listen on the bus channel, so no publication is missed. */
async function bothSubscribed(redis: RedisServer): Promise<void> {
  const admin = new RedisClient(redis.url);
  try {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const [, count] = (await admin.send("PUBSUB", ["NUMSUB", CHANNEL])) as [string, number];
      if (count === 2) return;
      if (Date.now() > deadline) throw new Error(`${count} nodes subscribed, expected 2`);
      await Bun.sleep(20);
    }
  } finally {
    admin.close();
  }
}

/** The same user's client, talking to another node (tokens are valid on every node). */
const on = (node: AccountsFixture, user: TestUser) =>
  new ApiClient(node.url, fetchTransport, user.api.auth);

const busWarnings = (node: AccountsFixture) =>
  node.server.log
    .entries()
    .filter((e) => e.level === "warn" && String(e.msg).includes("events reach this node"));

describe.skipIf(!canRun)("two nodes, one Redis", () => {
  let redis: RedisServer;
  let nodes: Awaited<ReturnType<typeof twoNodes>>;
  afterAll(async () => {
    // Redis first: a node whose sockets a failed test left open drains for its grace period,
    // and a hook that times out must not orphan the redis-server.
    await redis?.stop();
    await nodes?.cleanup();
  });

  test("a device linked through node A is announced to sockets on node B", async () => {
    redis = await startRedisServer();
    nodes = await twoNodes(redis);
    const { a, b } = nodes;
    const alice = await a.user();
    const bob = await a.user();
    await bob.api.request("PUT", `/api/v1/contacts/${alice.state.userId}`, { body: {} });
    const phoneOnB = await openSocket(b.url, on(b, alice));
    const bobOnB = await openSocket(b.url, on(b, bob));

    await a.linkDevice(alice);
    const expected = { type: "device_changed", userId: alice.state.userId, change: "added" };
    expect(await phoneOnB.next("device_changed")).toMatchObject(expected);
    expect(await bobOnB.next("device_changed")).toMatchObject(expected);
    for (const s of [phoneOnB, bobOnB]) s.ws.close();
  });

  test("one socket per device across nodes: a connection on B closes the one on A (4001)", async () => {
    const { a, b } = nodes;
    const alice = await a.user();
    const onA = await openSocket(a.url, alice.api);
    const onB = await openSocket(b.url, on(b, alice));
    expect((await onA.next("replaced")).type).toBe("replaced");
    expect((await onA.closed()).code).toBe(4001);

    // And back: A closes B's socket; the newest connection always survives.
    const againOnA = await openSocket(a.url, alice.api);
    expect((await onB.closed()).code).toBe(4001);
    await Bun.sleep(100);
    expect(againOnA.closeInfo).toBeUndefined();
    expect(againOnA.frames.map((f) => f.type)).toEqual(["ready"]);
    againOnA.ws.close();
  });
});

describe.skipIf(!canRun)("two nodes through a Redis outage", () => {
  let redis: RedisServer;
  let nodes: Awaited<ReturnType<typeof twoNodes>>;
  afterAll(async () => {
    // Redis first: a node whose sockets a failed test left open drains for its grace period,
    // and a hook that times out must not orphan the redis-server.
    await redis?.stop();
    await nodes?.cleanup();
  });

  test("local delivery goes on, one warning per node, cross-node delivery comes back", async () => {
    redis = await startRedisServer();
    nodes = await twoNodes(redis);
    const { a, b } = nodes;
    const alice = await a.user();
    const phoneOnA = await openSocket(a.url, alice.api);
    const tabletOnB = await openSocket(b.url, on(b, await a.linkDevice(alice)));
    const changes = (s: typeof phoneOnA) =>
      s.frames.filter((f) => f.type === "device_changed").map((f) => f.deviceListVersion);
    // Version 2 (the tablet) reached the phone before the tablet connected.
    expect(changes(phoneOnA)).toEqual([2]);

    await redis.stop();
    for (let i = 0; i < 100 && busWarnings(a).length === 0; i++) await Bun.sleep(10);
    await a.linkDevice(alice);
    await a.linkDevice(alice);
    for (let i = 0; i < 100 && changes(phoneOnA).length < 3; i++) await Bun.sleep(10);
    expect(changes(phoneOnA)).toEqual([2, 3, 4]);
    await Bun.sleep(100);
    // Missed on B while Redis was down (its device catches up over HTTP).
    expect(changes(tabletOnB)).toEqual([]);
    expect(busWarnings(a)).toHaveLength(1);
    expect(busWarnings(b)).toHaveLength(1);

    await redis.restart();
    await bothSubscribed(redis);
    await a.linkDevice(alice);
    for (let i = 0; i < 200 && changes(tabletOnB).length < 1; i++) await Bun.sleep(10);
    expect(changes(tabletOnB)).toEqual([5]);
    expect(busWarnings(a)).toHaveLength(1);
    const back = a.server.log
      .entries()
      .filter((e) => e.msg === "event fan-out through redis again");
    expect(back).toHaveLength(1);
    for (const s of [phoneOnA, tabletOnB]) s.ws.close();
  }, 15_000);
});

describe.skipIf(!canRun)("presence across two nodes", () => {
  let redis: RedisServer;
  let a: MessagingFixture;
  let b: MessagingFixture;
  const pushes: { userIds: readonly string[]; conversationId: string }[] = [];
  afterAll(async () => {
    await redis?.stop();
    await b?.cleanup();
    await a?.cleanup();
  });

  /** Presence frames about `u` that `s` got, as `online` flags, once `n` have come. */
  const presence = async (s: Socket, u: TestUser, n: number) => {
    await frame(s, "presence", () => presenceOf(s, u).length >= n);
    await Bun.sleep(50);
    return presenceOf(s, u);
  };
  const presenceOf = (s: Socket, u: TestUser) =>
    framesOf(s, "presence")
      .filter((p) => p.userId === u.state.userId)
      .map((p) => p.online);

  test("online and offline as the user's devices come and go on either node", async () => {
    redis = await startRedisServer();
    const env = { PARLEY_REDIS_URL: redis.url };
    a = await messagingFixture(env, {
      testPushNotifier: {
        notify: async (userIds, hint) => void pushes.push({ userIds, ...hint }),
      },
    });
    b = await messagingFixture(env, { sharedDataDir: a.server.dataDir });
    await bothSubscribed(redis);
    const alice = await a.user();
    const bob = await a.user();
    expectStatus(
      await a.call(alice, "PUT", "/account/settings", { lastSeenVisibility: "everyone" }),
      204,
    );
    expectStatus(await a.call(bob, "PUT", `/contacts/${alice.state.userId}`, {}), 204);
    const bobOnB = await b.socket(bob);

    const phoneOnA = await a.socket(alice);
    expect(await presence(bobOnB, alice, 1)).toEqual([true]);
    // Her tablet on B: she is already online (A's device is in Redis).
    const tabletOnB = await b.socket(await a.linkDevice(alice));
    phoneOnA.ws.close();
    await phoneOnA.closed();
    // The phone's node has no device of hers left, yet B's tablet keeps her online.
    tabletOnB.ws.close();
    expect(await presence(bobOnB, alice, 2)).toEqual([true, false]);

    // A takeover across nodes (the same device on B, then its socket on A closes): no offline.
    const again = await a.socket(alice);
    expect(await presence(bobOnB, alice, 3)).toEqual([true, false, true]);
    const takenOver = await b.socket(alice);
    expect((await again.closed()).code).toBe(4001);
    takenOver.ws.close();
    expect(await presence(bobOnB, alice, 4)).toEqual([true, false, true, false]);
  });

  test("a send on one node pushes only members connected to no node", async () => {
    const alice = await a.user();
    const bob = await a.user();
    const bobOnB = await b.socket(bob);
    const { conversationId } = await a.startDirect(alice, bob);
    await frame(bobOnB, "new_message");
    bobOnB.ws.close();
    await bobOnB.closed();
    const sent = await a.sendText(alice, conversationId, "are you there?");
    expectStatus(sent.res, 201);
    for (let i = 0; i < 200 && pushes.length === 0; i++) await Bun.sleep(10);
    // Only the second send: at the first, bob had a socket (on the other node).
    expect(pushes).toEqual([{ userIds: [bob.state.userId], conversationId }]);
  });
});

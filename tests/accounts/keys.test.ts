// The key directory through a real server: both kinds of one-time prekeys are watched and
// refilled on their own, a claim spends nothing of a device it cannot hand out, and the
// counts of a claim are reused for keys_low.
import { afterAll, describe, expect, test } from "bun:test";
import { sql } from "drizzle-orm";
import { KEYS_LOW_PQ_ONE_TIME } from "../../protocol/api/prekeys.ts";
import { refillPrekeys } from "../../sdk/account.ts";
import { makePrekeys, ONE_TIME_PREKEYS, PQ_ONE_TIME_PREKEYS } from "../../sdk/device.ts";
import type { SqlDb } from "../../server/store/database.ts";
import { accountsFixture, type TestUser } from "../support/accounts.ts";
import { openSocket } from "../support/ws.ts";

const f = await accountsFixture();
afterAll(() => f.cleanup());

type Counts = { oneTime: number; pqOneTime: number; hasSignedPrekey: boolean };
const countsOf = (u: TestUser) => u.api.request<Counts>("GET", "/api/v1/keys/count");

/** Publishes more one-time prekeys of either kind for a user's device. */
async function publish(u: TestUser, want: { oneTime?: number; pqOneTime?: number }) {
  const upload = await makePrekeys(f.ctx, u.state, want);
  await u.api.request("PUT", "/api/v1/keys", { body: upload });
}

describe("one-time ML-KEM prekeys", () => {
  test("keys_low when a fetch leaves few PQ one-time prekeys, even with X25519 ones to spare", async () => {
    const alice = await f.user(); // 5 one-time, 1 PQ one-time
    await publish(alice, { oneTime: 20 });
    const bob = await f.user();
    const socket = await openSocket(f.url, alice.api);
    await bob.api.request("GET", `/api/v1/users/${alice.state.userId}/keys`);
    const event = await socket.next("keys_low");
    // The counts the claim left: plenty of X25519 keys, no PQ one-time key.
    expect(event).toEqual({ type: "keys_low", oneTimePrekeys: 24, pqOneTimePrekeys: 0 });
    socket.ws.close();
  });

  test("no keys_low while both kinds are above their thresholds", async () => {
    const alice = await f.user();
    await publish(alice, { oneTime: 20, pqOneTime: KEYS_LOW_PQ_ONE_TIME });
    const bob = await f.user();
    const socket = await openSocket(f.url, alice.api);
    await bob.api.request("GET", `/api/v1/users/${alice.state.userId}/keys`);
    // A ping answered after the fetch: a keys_low would have come before it.
    socket.ws.send(JSON.stringify({ type: "ping" }));
    await socket.next("pong");
    expect(socket.frames.filter((fr) => fr.type === "keys_low")).toEqual([]);
    socket.ws.close();
  });

  test("the sdk refills PQ one-time prekeys when only they are low", async () => {
    const alice = await f.user();
    await publish(alice, { oneTime: 20 });
    const bob = await f.user();
    await bob.api.request("GET", `/api/v1/users/${alice.state.userId}/keys`);
    expect(await countsOf(alice)).toMatchObject({ oneTime: 24, pqOneTime: 0 });
    expect(await refillPrekeys(f.ctx, alice.api, alice.state)).toEqual({
      oneTime: 0,
      pqOneTime: PQ_ONE_TIME_PREKEYS,
    });
    expect(await countsOf(alice)).toMatchObject({ oneTime: 24, pqOneTime: PQ_ONE_TIME_PREKEYS });
  });

  test("the sdk refills X25519 one-time prekeys alone when the PQ ones are fine", async () => {
    const alice = await f.user();
    await publish(alice, { pqOneTime: KEYS_LOW_PQ_ONE_TIME });
    expect(await refillPrekeys(f.ctx, alice.api, alice.state)).toEqual({
      oneTime: ONE_TIME_PREKEYS - 5,
      pqOneTime: 0,
    });
    expect(await countsOf(alice)).toMatchObject({
      oneTime: ONE_TIME_PREKEYS,
      pqOneTime: KEYS_LOW_PQ_ONE_TIME + 1,
    });
    // Nothing is low any more: a second refill publishes nothing.
    expect(await refillPrekeys(f.ctx, alice.api, alice.state)).toEqual({
      oneTime: 0,
      pqOneTime: 0,
    });
  });
});

describe("claims", () => {
  test("a device without a signed prekey is left out and keeps its one-time keys", async () => {
    const alice = await f.user();
    const bob = await f.user();
    // No API leaves a device without one; a damaged or hand-edited database can.
    await f.server.server.database.write(async (tx) => {
      await tx.run(sql`DELETE FROM signed_prekeys WHERE device_id = ${alice.state.deviceId}`);
    });
    const keys = await bob.api.request<{ devices: unknown[] }>(
      "GET",
      `/api/v1/users/${alice.state.userId}/keys`,
    );
    expect(keys.devices).toEqual([]);
    expect(await countsOf(alice)).toEqual({
      oneTime: 5,
      pqOneTime: 1,
      hasSignedPrekey: false,
      hasLastResort: true,
    } as Counts);
  });

  test("a fetch that sends keys_low reads the database no more than one that does not", async () => {
    const low = await f.user(); // 5 one-time keys: every claim leaves it low
    const plenty = await f.user();
    await publish(plenty, { oneTime: 20, pqOneTime: 5 });
    const bob = await f.user();
    const database = f.server.server.database as { db: SqlDb };
    const readDb = database.db;
    let reads = 0;
    database.db = new Proxy(readDb, {
      get(target, property, receiver) {
        reads++;
        return Reflect.get(target, property, receiver);
      },
    });
    const readsOfFetch = async (u: TestUser) => {
      const before = reads;
      await bob.api.request("GET", `/api/v1/users/${u.state.userId}/keys`);
      return reads - before;
    };
    try {
      const quiet = await readsOfFetch(plenty);
      const warned = await readsOfFetch(low);
      expect(warned).toBe(quiet);
    } finally {
      database.db = readDb;
    }
  });
});

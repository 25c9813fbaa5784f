// Rate limits hold and answer 429 with Retry-After, in process and through Redis; one-time
// prekeys are handed out once under concurrent fetches and stored up to a cap per device; a
// long poll for a provisioning envelope holds no write lock and no more than it needs.
import { afterAll, describe, expect, test } from "bun:test";
import {
  MAX_STORED_ONE_TIME_PREKEYS,
  MAX_STORED_PQ_ONE_TIME_PREKEYS,
} from "../../protocol/api/prekeys.ts";
import { ParleyError } from "../../protocol/errors.ts";
import { makePrekeys } from "../../sdk/device.ts";
import { accountsFixture, type TestUser } from "../support/accounts.ts";
import { redisServerAvailable, startRedisServer } from "../support/redis.ts";

describe("rate limits", async () => {
  const f = await accountsFixture({
    PARLEY_LIMITS_REGISTRATIONS_PER_HOUR: "3",
    PARLEY_LIMITS_REQUESTS_PER_MINUTE: "5",
    PARLEY_LIMITS_KEY_FETCHES_PER_MINUTE: "2",
    PARLEY_LIMITS_SIGN_INS_PER_MINUTE: "2",
  });
  afterAll(() => f.cleanup());

  test("registrations per client address per hour", async () => {
    for (let i = 0; i < 3; i++) await f.user();
    const refused = await f.user().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(ParleyError);
    const error = refused as ParleyError;
    expect(error.code).toBe("rate_limited");
    const retryAfter = (error.retryAfterMs ?? 0) / 1000;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(3600);
  });
});

describe("rate limits per user", async () => {
  const f = await accountsFixture({
    PARLEY_LIMITS_REQUESTS_PER_MINUTE: "5",
    PARLEY_LIMITS_KEY_FETCHES_PER_MINUTE: "2",
  });
  afterAll(() => f.cleanup());

  test("ordinary requests stop at the limit; key traffic still flows", async () => {
    const alice = await f.user();
    const token = alice.api.auth.tokens!.accessToken;
    const statuses = [];
    for (let i = 0; i < 7; i++)
      statuses.push((await f.http("GET", "/api/v1/account", { token })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // One audit entry for the refused user, not one per refused request.
    const target = `api:${alice.state.userId}`;
    expect(f.audit("rate_limit.refused").filter((r) => r.target === target)).toHaveLength(1);
    expect((await f.http("GET", "/api/v1/keys/count", { token })).status).toBe(200);
  });

  test("fetching other users' keys is limited separately (against enumeration)", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const token = bob.api.auth.tokens!.accessToken;
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push(
        (await f.http("GET", `/api/v1/users/${alice.state.userId}/keys`, { token })).status,
      );
    expect(statuses).toEqual([200, 200, 429]);
  });
});

describe.if(redisServerAvailable())("rate limits shared through Redis", async () => {
  const redis = await startRedisServer();
  const options = { PARLEY_REDIS_URL: redis.url, PARLEY_LIMITS_SIGN_INS_PER_MINUTE: "3" };
  const a = await accountsFixture(options);
  const b = await accountsFixture(options);
  afterAll(async () => {
    await a.cleanup();
    await b.cleanup();
    await redis.stop();
  });

  test("two server nodes count one client's sign-ins together", async () => {
    const body = {
      grant: "device",
      deviceId: "01900000-0000-7000-8000-000000000000",
      secret: "A".repeat(43),
    };
    const statuses = [
      (await a.http("POST", "/api/v1/auth/token", { body })).status,
      (await b.http("POST", "/api/v1/auth/token", { body })).status,
      (await a.http("POST", "/api/v1/auth/token", { body })).status,
      (await b.http("POST", "/api/v1/auth/token", { body })).status,
    ];
    expect(statuses).toEqual([401, 401, 401, 429]);
  });
});

describe("one-time prekeys", async () => {
  const f = await accountsFixture({ PARLEY_LIMITS_PROTOCOL_PER_MINUTE: "100000" });
  afterAll(() => f.cleanup());

  test("concurrent fetches never hand out the same one-time prekey", async () => {
    const alice = await f.user(); // publishes 5 one-time prekeys
    const fetchers = await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => f.user()));
    const bundles = await Promise.all(
      fetchers.map((u) =>
        f.http("GET", `/api/v1/users/${alice.state.userId}/keys`, {
          token: u.api.auth.tokens!.accessToken,
        }),
      ),
    );
    const oneTime = bundles.map(
      (b) => (b.json!.devices as { oneTimePrekey?: string }[])[0]!.oneTimePrekey,
    );
    const handedOut = oneTime.filter((k): k is string => k !== undefined);
    expect(handedOut).toHaveLength(5);
    expect(new Set(handedOut).size).toBe(5);
    // The rest got a bundle without one (PQXDH works without a one-time prekey).
    expect(oneTime.filter((k) => k === undefined)).toHaveLength(3);
  });
});

describe("sign-in and refresh budgets", async () => {
  const f = await accountsFixture({
    PARLEY_LIMITS_SIGN_INS_PER_MINUTE: "2",
    PARLEY_LIMITS_REFRESHES_PER_MINUTE: "3",
  });
  afterAll(() => f.cleanup());

  test("guessing device secrets is limited; refreshes of many devices behind one address are not", async () => {
    const alice = await f.user();
    const guess = () =>
      f.http("POST", "/api/v1/auth/token", {
        body: { grant: "device", deviceId: alice.state.deviceId, secret: "A".repeat(43) },
      });
    expect([(await guess()).status, (await guess()).status, (await guess()).status]).toEqual([
      401, 401, 429,
    ]);
    // Sign-ins are spent, yet refreshing still works, up to its own budget.
    const statuses = [];
    for (let i = 0; i < 4; i++) {
      const res = await f.http("POST", "/api/v1/auth/token", {
        body: { grant: "refresh", refreshToken: alice.api.auth.tokens!.refreshToken },
      });
      statuses.push(res.status);
      if (res.status === 200) await alice.api.setTokens(res.json as never);
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
  });
});

describe("stored one-time prekeys", async () => {
  const f = await accountsFixture({ PARLEY_LIMITS_PROTOCOL_PER_MINUTE: "100000" });
  afterAll(() => f.cleanup());
  const upload = async (u: TestUser, want: { oneTime?: number; pqOneTime?: number }) =>
    f.http("PUT", "/api/v1/keys", {
      token: u.api.auth.tokens!.accessToken,
      body: await makePrekeys(f.ctx, u.state, want),
    });
  const counts = async (u: TestUser) =>
    (await f.http("GET", "/api/v1/keys/count", { token: u.api.auth.tokens!.accessToken })).json;

  test("a device stores at most 200 one-time prekeys; an upload past it is refused whole", async () => {
    const alice = await f.user(); // 5 one-time prekeys
    expect(MAX_STORED_ONE_TIME_PREKEYS).toBe(200);
    expect((await upload(alice, { oneTime: 100 })).status).toBe(204);
    expect((await upload(alice, { oneTime: 95 })).status).toBe(204); // exactly at the cap
    const refused = await upload(alice, { oneTime: 1 });
    expect(refused.status).toBe(422);
    expect(refused.json?.code).toBe("limit_exceeded");
    expect(await counts(alice)).toMatchObject({ oneTime: 200 });
  });

  test("a device stores at most 50 one-time PQ prekeys", async () => {
    const alice = await f.user(); // 1 PQ one-time prekey
    expect(MAX_STORED_PQ_ONE_TIME_PREKEYS).toBe(50);
    const refused = await upload(alice, { pqOneTime: 50, oneTime: 1 });
    expect(refused.status).toBe(422);
    expect(refused.json?.code).toBe("limit_exceeded");
    // Nothing of the refused upload was kept, its X25519 key neither.
    expect(await counts(alice)).toMatchObject({ oneTime: 5, pqOneTime: 1 });
    expect((await upload(alice, { pqOneTime: 49 })).status).toBe(204);
    expect(await counts(alice)).toMatchObject({ pqOneTime: 50 });
  });

  test("concurrent uploads cannot pass the cap together", async () => {
    const alice = await f.user();
    expect((await upload(alice, { oneTime: 95 })).status).toBe(204); // 100 stored
    const bodies = [
      await makePrekeys(f.ctx, alice.state, { oneTime: 60 }),
      await makePrekeys(f.ctx, alice.state, { oneTime: 60 }),
    ];
    const token = alice.api.auth.tokens!.accessToken;
    const statuses = await Promise.all(
      bodies.map(async (body) => (await f.http("PUT", "/api/v1/keys", { token, body })).status),
    );
    expect(statuses.sort()).toEqual([204, 422]);
    expect(await counts(alice)).toMatchObject({ oneTime: 160 });
  });
});

describe("provisioning long poll", async () => {
  const f = await accountsFixture();
  afterAll(() => f.cleanup());
  const alice = await f.user();
  const database = f.server.server.database;
  const envelope = "ZW52ZWxvcGU";
  const open = async () =>
    (await f.http("POST", "/api/v1/provisioning")).json as { slotId: string; readToken: string };
  const get = (slot: { slotId: string; readToken: string }, wait: number, signal?: AbortSignal) =>
    fetch(`${f.url}/api/v1/provisioning/${slot.slotId}?wait=${wait}`, {
      headers: { "x-read-token": slot.readToken },
      signal,
    });
  const put = (slotId: string) =>
    f.http("PUT", `/api/v1/provisioning/${slotId}`, {
      token: alice.api.auth.tokens!.accessToken,
      body: { envelope },
    });

  test("waiting on an empty slot writes nothing to the database", async () => {
    const slot = await open();
    const write = database.write;
    const counted = write.bind(database);
    let writes = 0;
    database.write = (fn) => {
      writes++;
      return counted(fn);
    };
    try {
      expect((await get(slot, 1)).status).toBe(204);
    } finally {
      database.write = write;
    }
    expect(writes).toBe(0);
  });

  test("an envelope put while the reader waits reaches it", async () => {
    const slot = await open();
    const waiting = get(slot, 20);
    await Bun.sleep(100);
    expect((await put(slot.slotId)).status).toBe(204);
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ envelope });
  });

  test("a reader that hung up stops waiting and leaves the envelope in the slot", async () => {
    const slot = await open();
    const hangUp = new AbortController();
    const abandoned = get(slot, 20, hangUp.signal).catch(() => "aborted");
    await Bun.sleep(100);
    hangUp.abort();
    expect(await abandoned).toBe("aborted");
    await Bun.sleep(100);
    expect((await put(slot.slotId)).status).toBe(204);
    await Bun.sleep(1_500); // longer than the fallback poll
    const res = await get(slot, 0);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ envelope });
  });

  test("one waiter per slot: a second GET ends the first with 204, then gets the envelope", async () => {
    const slot = await open();
    const first = get(slot, 20);
    await Bun.sleep(100);
    const second = get(slot, 20);
    const firstRes = await Promise.race([first, Bun.sleep(5_000).then(() => undefined)]);
    expect(firstRes?.status).toBe(204);
    expect((await put(slot.slotId)).status).toBe(204);
    const secondRes = await second;
    expect(secondRes.status).toBe(200);
    expect(await secondRes.json()).toEqual({ envelope });
  });
});

// Rate limits hold and answer 429 with Retry-After, in process and through Redis; one-time
// prekeys are handed out once under concurrent fetches.
import { afterAll, describe, expect, test } from "bun:test";
import { ParleyError } from "../../protocol/errors.ts";
import { accountsFixture } from "../support/accounts.ts";
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
    const body = { grant: "refresh", refreshToken: "nobody.nothing" };
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

// The sdk's transparent token refresh under concurrency, through the real server: requests that
// fail together with `token_expired` share one refresh, so the server never sees the same
// refresh token twice (which it takes for theft and answers by closing the device's sessions).
import { afterAll, describe, expect, test } from "bun:test";
import { ApiClient } from "../../sdk/api-client.ts";
import type { HttpTransport } from "../../sdk/transport.ts";
import { accountsFixture, type TestUser } from "../support/accounts.ts";
import { fetchTransport } from "../support/client.ts";

/** Longer than an access token lives (15 minutes). */
const PAST_ACCESS_TOKEN_LIFETIME_MS = 16 * 60_000;
const TOKEN_PATH = "/api/v1/auth/token";

let clock = Date.now();
const f = await accountsFixture({}, { now: () => clock });
afterAll(() => f.cleanup());

/** Another client of the same device (same tokens) whose transport counts token refreshes. */
function countingClient(user: TestUser, transport: HttpTransport = fetchTransport) {
  const counted = { refreshes: 0 };
  const api = new ApiClient(
    f.url,
    (url, init) => {
      if (url.endsWith(TOKEN_PATH)) counted.refreshes++;
      return transport(url, init);
    },
    user.api.auth,
  );
  return { api, counted };
}

const whoAmI = (api: ApiClient) =>
  api.request<{ userId: string }>("GET", "/api/v1/account").then((me) => me.userId);

describe("token refresh", () => {
  test("requests that expire together share one refresh; the device keeps its sessions", async () => {
    const alice = await f.user();
    const { api, counted } = countingClient(alice);
    const before = alice.api.auth.tokens!;
    clock += PAST_ACCESS_TOKEN_LIFETIME_MS;

    const answers = await Promise.all(Array.from({ length: 5 }, () => whoAmI(api)));

    expect(answers).toEqual(Array(5).fill(alice.state.userId));
    expect(counted.refreshes).toBe(1);
    expect(alice.api.auth.tokens!.refreshToken).not.toBe(before.refreshToken);
    expect(f.audit("device.refresh_token_reused")).toEqual([]);
    // The new tokens still work, and refresh again when they expire in turn.
    expect(await whoAmI(alice.api)).toBe(alice.state.userId);
    clock += PAST_ACCESS_TOKEN_LIFETIME_MS;
    expect(await whoAmI(alice.api)).toBe(alice.state.userId);
  });

  test("a request that fails after another one refreshed retries with the new token", async () => {
    const bob = await f.user();
    // The first request's `token_expired` answer is held back until the second request has
    // refreshed and succeeded; the first must then retry with the new token, not refresh again.
    let release = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let holdNext = true;
    const { api, counted } = countingClient(bob, async (url, init) => {
      const hold = holdNext && !url.endsWith(TOKEN_PATH);
      holdNext = false;
      const response = await fetchTransport(url, init);
      if (hold) await held;
      return response;
    });
    clock += PAST_ACCESS_TOKEN_LIFETIME_MS;

    const late = whoAmI(api);
    expect(await whoAmI(api)).toBe(bob.state.userId);
    expect(counted.refreshes).toBe(1);
    release();
    expect(await late).toBe(bob.state.userId);
    expect(counted.refreshes).toBe(1);
  });
});

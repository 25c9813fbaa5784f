// Sign-in, token lifetimes and the WebSocket connection, through a real server.
import { afterAll, describe, expect, test } from "bun:test";
import { toBase64Url } from "../../protocol/api/base64.ts";
import { ParleyError } from "../../protocol/errors.ts";
import { signIn } from "../../sdk/account.ts";
import { revokeDevice } from "../../sdk/devices.ts";
import { accountsFixture } from "../support/accounts.ts";
import { apiClient } from "../support/client.ts";
import { openSocket } from "../support/ws.ts";

let clock = Date.now();
const f = await accountsFixture({}, { now: () => clock, wsPingIntervalMs: 100 });
afterAll(() => f.cleanup());
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) => (e instanceof ParleyError ? e.code : String(e)),
  );

describe("tokens", () => {
  test("an access token expires after 15 minutes; the sdk refreshes it transparently", async () => {
    const alice = await f.user();
    const first = alice.api.auth.tokens!;
    expect(first.accessTokenExpiresAt - clock).toBeLessThanOrEqual(15 * 60_000);
    clock += 16 * 60_000;
    expect((await f.http("GET", "/api/v1/account", { token: first.accessToken })).json?.code).toBe(
      "token_expired",
    );
    const me = await alice.api.request<{ userId: string }>("GET", "/api/v1/account");
    expect(me.userId).toBe(alice.state.userId);
    expect(alice.api.auth.tokens!.refreshToken).not.toBe(first.refreshToken);
  });

  test("a refresh token works once; using it again revokes the device's tokens", async () => {
    const alice = await f.user();
    const original = alice.api.auth.tokens!;
    const rotated = await f.http("POST", "/api/v1/auth/token", {
      body: { grant: "refresh", refreshToken: original.refreshToken },
    });
    expect(rotated.status).toBe(200);
    const newTokens = rotated.json as { accessToken: string; refreshToken: string };
    clock += 1_000;
    const reuse = await f.http("POST", "/api/v1/auth/token", {
      body: { grant: "refresh", refreshToken: original.refreshToken },
    });
    expect(reuse.json?.code).toBe("refresh_token_reused");
    // The rotated pair is dead too: whoever reused the token may hold it.
    expect(
      (
        await f.http("POST", "/api/v1/auth/token", {
          body: { grant: "refresh", refreshToken: newTokens.refreshToken },
        })
      ).json?.code,
    ).toBe("refresh_token_invalid");
    expect(
      (await f.http("GET", "/api/v1/account", { token: newTokens.accessToken })).json?.code,
    ).toBe("invalid_token");
    expect(f.audit("device.refresh_token_reused")).toContainEqual(
      expect.objectContaining({ actor: alice.state.userId, target: alice.state.deviceId }),
    );
    // The device itself can sign in again with its secret, at once (the same second).
    await signIn(alice.api, alice.state);
    expect(f.audit("device.sign_in")).toContainEqual(
      expect.objectContaining({ actor: alice.state.userId, target: alice.state.deviceId }),
    );
    expect(
      (await f.http("GET", "/api/v1/account", { token: alice.api.auth.tokens!.accessToken }))
        .status,
    ).toBe(200);
  });

  test("device sign-in needs the device's secret", async () => {
    const alice = await f.user();
    const wrong = await f.http("POST", "/api/v1/auth/token", {
      body: {
        grant: "device",
        deviceId: alice.state.deviceId,
        secret: toBase64Url(new Uint8Array(32)),
      },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.json?.code).toBe("sign_in_failed");
    expect(f.audit("device.sign_in_failed")).toContainEqual(
      expect.objectContaining({ actor: alice.state.userId, target: alice.state.deviceId }),
    );
  });
});

describe("WebSocket", () => {
  test("a ticket opens one socket, once", async () => {
    const alice = await f.user();
    const socket = await openSocket(f.url, alice.api);
    const again = new WebSocket(
      `${f.url.replace(/^http/, "ws")}/api/v1/ws?ticket=${socket.ticket}`,
    );
    const outcome = await new Promise<string>((resolve) => {
      again.addEventListener("open", () => resolve("opened"));
      again.addEventListener("close", () => resolve("refused"));
    });
    expect(outcome).toBe("refused");
    socket.ws.close();
  });

  test("one socket per device: a second one replaces the first", async () => {
    const alice = await f.user();
    const first = await openSocket(f.url, alice.api);
    const second = await openSocket(f.url, alice.api);
    expect((await first.next("replaced")).type).toBe("replaced");
    expect((await first.closed()).code).toBe(4001);
    second.ws.send(JSON.stringify({ type: "ping" }));
    expect((await second.next("pong")).type).toBe("pong");
    second.ws.close();
  });

  test("the server pings; the connection stays up while pongs come back", async () => {
    const alice = await f.user();
    const socket = await openSocket(f.url, alice.api);
    await Bun.sleep(500); // five ping intervals of the test server
    expect(socket.closeInfo).toBeUndefined();
    socket.ws.close();
  });

  test("an unknown frame gets an error frame, not a disconnect", async () => {
    const alice = await f.user();
    const socket = await openSocket(f.url, alice.api);
    socket.ws.send("not json");
    const error = await socket.next("error");
    expect(error.code).toBe("malformed_body");
    socket.ws.send(JSON.stringify({ type: "teleport" }));
    socket.ws.send(JSON.stringify({ type: "ping" }));
    await socket.next("pong");
    socket.ws.close();
  });

  test("keys_low when a fetch leaves fewer than 10 one-time prekeys, with both counts left", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const socket = await openSocket(f.url, alice.api);
    await bob.api.request("GET", `/api/v1/users/${alice.state.userId}/keys`);
    const event = await socket.next("keys_low");
    // The test fixture publishes 5 one-time and 1 PQ one-time prekeys; one of each was claimed.
    expect(event).toEqual({ type: "keys_low", oneTimePrekeys: 4, pqOneTimePrekeys: 0 });
    socket.ws.close();
  });

  test("last seen is when a device was last connected, shown only as its owner allows", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const stranger = await f.user();
    // By default, only the user's contacts see it.
    await alice.api.request("PUT", `/api/v1/contacts/${bob.state.userId}`, { body: {} });
    const seenBy = async (viewer: typeof bob) =>
      (
        await viewer.api.request<{ lastSeenAt?: number }>(
          "GET",
          `/api/v1/users/${alice.state.userId}`,
        )
      ).lastSeenAt;
    const seen = () => seenBy(bob);
    const socket = await openSocket(f.url, alice.api);
    const connectedAt = clock;
    for (let i = 0; i < 100 && (await seen()) !== connectedAt; i++) await Bun.sleep(10);
    expect(await seen()).toBe(connectedAt);
    expect(await seenBy(stranger)).toBeUndefined();
    clock += 60_000;
    socket.ws.close();
    await socket.closed();
    for (let i = 0; i < 100 && (await seen()) !== clock; i++) await Bun.sleep(10);
    expect(await seen()).toBe(clock);
    await alice.api.request("PUT", "/api/v1/account/settings", {
      body: { lastSeenVisibility: "nobody" },
    });
    expect(await seen()).toBeUndefined();
  });

  test("linking a device tells the account's devices and contacts; revoking one closes its socket", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const carol = await f.user();
    await bob.api.request("PUT", `/api/v1/contacts/${alice.state.userId}`, { body: {} });
    await carol.api.request("PUT", `/api/v1/contacts/${alice.state.userId}`, {
      body: { blocked: true },
    });
    const bobSocket = await openSocket(f.url, bob.api);
    const carolSocket = await openSocket(f.url, carol.api);
    const phoneSocket = await openSocket(f.url, alice.api);
    const laptop = await f.linkDevice(alice);
    const added = await phoneSocket.next("device_changed");
    expect(added).toMatchObject({
      change: "added",
      deviceListVersion: 2,
      userId: alice.state.userId,
    });
    const laptopSocket = await openSocket(f.url, laptop.api);
    await revokeDevice(f.ctx, alice.api, alice.state, laptop.state.deviceId);
    expect((await laptopSocket.next("revoked")).type).toBe("revoked");
    expect((await laptopSocket.closed()).code).toBe(4003);
    expect(await codeOf(laptop.api.request("GET", "/api/v1/account"))).toBe("device_revoked");
    expect(await codeOf(signIn(apiClient(f.url), laptop.state))).toBe("device_revoked");
    // A contact hears of both changes, so it stops encrypting to the laptop; a user who
    // blocked alice hears nothing.
    const changes = () =>
      bobSocket.frames.filter((e) => e.type === "device_changed").map((e) => e.change);
    for (let i = 0; i < 100 && changes().length < 2; i++) await Bun.sleep(10);
    expect(changes()).toEqual(["added", "removed"]);
    expect(carolSocket.frames.filter((e) => e.type === "device_changed")).toEqual([]);
    for (const s of [phoneSocket, bobSocket, carolSocket]) s.ws.close();
  });
});

// Scenario tables for the accounts API (PocketBase's ApiScenario): for every route, the
// happy path and each error a client can cause, with the status, the catalogue code and the
// error body's message and request id. Rows build their own users, so each one stands alone
// (except the TOTP rows, which walk one enrolment in order).
import { afterAll, describe, expect, test } from "bun:test";
import { Secret, TOTP } from "otpauth";
import type { Tokens } from "../../protocol/api/accounts.ts";
import { toBase64Url } from "../../protocol/api/base64.ts";
import {
  encodeDeviceCertificate,
  issueDeviceCertificate,
} from "../../protocol/identity/device-certificate.ts";
import { encodeDeviceList, signDeviceList } from "../../protocol/identity/device-list.ts";
import type { DeviceId } from "../../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import { newDeviceState } from "../../sdk/device.ts";
import {
  accountsServer,
  expectError,
  expectStatus,
  runScenario,
  type Scenario,
  scenarioTitle,
  type TestUser,
} from "./support.ts";

const s = await accountsServer();
// Settings that change what a route answers get their own server.
const restricted = await accountsServer({
  PARLEY_DIRECTORY_SEARCH: "false",
  PARLEY_REGISTRATION_MAX_DEVICES: "2",
});
afterAll(async () => {
  await s.cleanup();
  await restricted.cleanup();
});

const alice = await s.user();
const bob = await s.user();
const { ctx } = s;
const unknownId = () => crypto.randomUUID();
const bytes = (n: number) => toBase64Url(crypto.getRandomValues(new Uint8Array(n)));
const signInBody = (u: TestUser, secret = u.state.deviceSecret) => ({
  grant: "device",
  deviceId: u.state.deviceId,
  secret: toBase64Url(secret),
});
const refreshTokenOf = (u: TestUser) => u.api.auth.tokens!.refreshToken;

/** Fresh user: for rows that change or end what they touch. */
const fresh = () => s.user();

/** A user whose second device was linked, then revoked with a proper list. */
async function userWithRevokedDevice() {
  const { owner, second } = await s.userWithTwoDevices();
  const list = await s.nextList(owner, (d) => d.deviceId !== second.state.deviceId);
  const revoke = await s.http("DELETE", `/devices/${second.state.deviceId}`, {
    token: owner.token,
    body: { deviceList: list },
  });
  expectStatus(revoke, 204);
  return { owner, second };
}

/** An open provisioning slot, optionally with an envelope already in it. */
async function slot(envelope?: string) {
  const res = await s.http("POST", "/provisioning");
  expectStatus(res, 201);
  const opened = res.json as { slotId: string; readToken: string };
  if (envelope !== undefined) {
    const put = await s.http("PUT", `/provisioning/${opened.slotId}`, {
      token: alice.token,
      body: { envelope },
    });
    expectStatus(put, 204);
  }
  return opened;
}

const totpCode = (secret: string, offsetSteps = 0) =>
  new TOTP({ secret: Secret.fromBase32(secret) }).generate({
    timestamp: Date.now() + offsetSteps * 30_000,
  });

/** A six-digit code the server refuses: none of the steps its window of ±1 accepts. */
function wrongTotpCode(secret: string): string {
  const valid = new Set([-1, 0, 1, 2].map((step) => totpCode(secret, step)));
  for (let n = 0; ; n++) {
    const code = String(n).padStart(6, "0");
    if (!valid.has(code)) return code;
  }
}

const wsUpgrade = {
  upgrade: "websocket",
  connection: "Upgrade",
  "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
  "sec-websocket-version": "13",
};

const REGISTRATION: Scenario[] = [
  {
    name: "a new account with its first device",
    method: "POST",
    route: "/accounts",
    request: async () => ({ path: "/accounts", body: (await s.registration()).body }),
    status: 201,
    async after(res) {
      const tokens = res.json as Tokens;
      expect(Object.keys(tokens).sort()).toEqual(
        [
          "accessToken",
          "accessTokenExpiresAt",
          "deviceId",
          "refreshToken",
          "reset",
          "userId",
        ].sort(),
      );
      expect(tokens).toMatchObject({ reset: false });
      const me = await s.http("GET", "/account", { token: tokens.accessToken });
      expectStatus(me, 200);
      expect(me.json?.userId).toBe(tokens.userId);
    },
  },
  {
    name: "a username someone has",
    method: "POST",
    route: "/accounts",
    request: async () => ({
      path: "/accounts",
      body: (await s.registration({ username: alice.username })).body,
    }),
    status: 409,
    code: "username_taken",
  },
  {
    name: "a username with capitals and a space",
    method: "POST",
    route: "/accounts",
    request: async () => ({
      path: "/accounts",
      body: (await s.registration({ username: "Not Valid" })).body,
    }),
    status: 400,
    code: "invalid_request",
    after: (res) => expect(res.json?.details).toEqual({ field: "body.username" }),
  },
  {
    name: "no username for a new account",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body } = await s.registration();
      delete body.username;
      return { path: "/accounts", body };
    },
    status: 400,
    code: "invalid_request",
    after: (res) => expect(res.json?.details).toEqual({ field: "body.username" }),
  },
  {
    name: "a one-time-code proof on an open server",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const proof = { kind: "otp" as const, challengeId: unknownId(), code: "123456" };
      return { path: "/accounts", body: (await s.registration({ proof })).body };
    },
    status: 403,
    code: "registration_closed",
  },
  {
    name: "a plain invite on an open server",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const invite = await s.admin("POST", "/invites", {});
      expect(invite.status).toBe(201);
      const proof = { kind: "invite" as const, code: invite.json.code as string };
      return { path: "/accounts", body: (await s.registration({ proof })).body };
    },
    status: 403,
    code: "registration_closed",
  },
  {
    name: "an invite code that does not exist",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const proof = { kind: "invite" as const, code: "no-such-invite-code" };
      return { path: "/accounts", body: (await s.registration({ proof })).body };
    },
    status: 403,
    code: "invite_invalid",
  },
  {
    name: "a device certificate signed by another account key",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body, state } = await s.registration();
      const forged = await issueDeviceCertificate(
        ctx,
        asAccountSecretKey((await s.strangerKey()).secretKey),
        state.certificate,
      );
      body.device.certificate = toBase64Url(encodeDeviceCertificate(forged));
      return { path: "/accounts", body };
    },
    status: 422,
    code: "invalid_signature",
  },
  {
    name: "a device list signed by another account key",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body, state } = await s.registration();
      const forged = await signDeviceList(
        ctx,
        asAccountSecretKey((await s.strangerKey()).secretKey),
        { ...state.deviceList!, devices: [state.certificate] },
      );
      body.deviceList = toBase64Url(encodeDeviceList(forged));
      return { path: "/accounts", body };
    },
    status: 422,
    code: "invalid_signature",
  },
  {
    name: "a first device list at version 2",
    method: "POST",
    route: "/accounts",
    request: async () => ({
      path: "/accounts",
      body: (await s.registration({ listVersion: 2 })).body,
    }),
    status: 409,
    code: "stale_device_list",
  },
  {
    name: "a device list that holds another device instead",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body, state } = await s.registration();
      const other = await newDeviceState(ctx, {
        userId: state.userId,
        deviceId: unknownId() as DeviceId,
        platform: "cli",
        accountKeyPair: state.accountKeyPair,
      });
      const list = await signDeviceList(ctx, asAccountSecretKey(state.accountKeyPair.secretKey), {
        userId: state.userId,
        version: 1,
        previousHash: new Uint8Array(32),
        devices: [other.certificate],
      });
      body.deviceList = toBase64Url(encodeDeviceList(list));
      return { path: "/accounts", body };
    },
    status: 409,
    code: "stale_device_list",
  },
  {
    name: "the device id of another user's device",
    method: "POST",
    route: "/accounts",
    request: async () => ({
      path: "/accounts",
      body: (await s.registration({ deviceId: bob.state.deviceId })).body,
    }),
    status: 409,
    code: "device_exists",
  },
  {
    name: "the user id of another account",
    method: "POST",
    route: "/accounts",
    request: async () => ({
      path: "/accounts",
      body: (await s.registration({ userId: bob.state.userId })).body,
    }),
    status: 409,
    code: "user_exists",
  },
  {
    name: "a one-time prekey signed for another device",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body, state } = await s.registration();
      body.keys.oneTimePrekeys = await s.prekeys(state, { deviceId: unknownId() });
      return { path: "/accounts", body };
    },
    status: 400,
    code: "invalid_key",
  },
  {
    name: "a one-time prekey signed by another account key",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body, state } = await s.registration();
      body.keys.oneTimePrekeys = await s.prekeys(state, { signer: await s.strangerKey() });
      return { path: "/accounts", body };
    },
    status: 422,
    code: "invalid_signature",
  },
  {
    name: "no signed prekey",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body } = await s.registration();
      delete body.keys.signedPrekey;
      return { path: "/accounts", body };
    },
    status: 400,
    code: "invalid_request",
    after: (res) => expect(res.json?.details).toEqual({ field: "body.keys" }),
  },
  {
    name: "an account key of 16 bytes",
    method: "POST",
    route: "/accounts",
    request: async () => {
      const { body } = await s.registration();
      body.accountKey = bytes(16);
      return { path: "/accounts", body };
    },
    status: 400,
    code: "invalid_key",
  },
];

const TOKENS: Scenario[] = [
  {
    name: "a device signs in with its secret",
    method: "POST",
    route: "/auth/token",
    request: () => ({ path: "/auth/token", body: signInBody(alice) }),
    status: 200,
    after: (res) => expect(res.json?.deviceId).toBe(alice.state.deviceId),
  },
  {
    name: "a wrong secret",
    method: "POST",
    route: "/auth/token",
    request: () => ({ path: "/auth/token", body: signInBody(alice, new Uint8Array(32)) }),
    status: 401,
    code: "sign_in_failed",
  },
  {
    name: "a device that does not exist",
    method: "POST",
    route: "/auth/token",
    request: () => ({
      path: "/auth/token",
      body: { ...signInBody(alice), deviceId: unknownId() },
    }),
    status: 401,
    code: "sign_in_failed",
  },
  {
    name: "a revoked device signs in",
    method: "POST",
    route: "/auth/token",
    request: async () => {
      const { second } = await userWithRevokedDevice();
      return { path: "/auth/token", body: signInBody(second) };
    },
    status: 401,
    code: "device_revoked",
  },
  {
    // The sdk answers refresh_token_* by signing in, and sign_in_failed looks like a wrong
    // secret: only device_revoked tells an offline device it was removed.
    name: "a revoked device refreshes its tokens",
    method: "POST",
    route: "/auth/token",
    request: async () => {
      const { second } = await userWithRevokedDevice();
      return {
        path: "/auth/token",
        body: { grant: "refresh", refreshToken: refreshTokenOf(second) },
      };
    },
    status: 401,
    code: "device_revoked",
  },
  {
    name: "a refresh token rotates",
    method: "POST",
    route: "/auth/token",
    request: async () => ({
      path: "/auth/token",
      body: { grant: "refresh", refreshToken: refreshTokenOf(await fresh()) },
    }),
    status: 200,
    after: (res) => expect(typeof res.json?.refreshToken).toBe("string"),
  },
  {
    name: "a refresh token without its secret part",
    method: "POST",
    route: "/auth/token",
    request: () => ({
      path: "/auth/token",
      body: { grant: "refresh", refreshToken: "no-dot-in-this-token" },
    }),
    status: 401,
    code: "refresh_token_invalid",
  },
  {
    name: "a refresh token the server never issued",
    method: "POST",
    route: "/auth/token",
    request: () => ({
      path: "/auth/token",
      body: { grant: "refresh", refreshToken: `${unknownId()}.${bytes(32)}` },
    }),
    status: 401,
    code: "refresh_token_invalid",
  },
  {
    name: "a refresh token used a second time",
    method: "POST",
    route: "/auth/token",
    request: async () => {
      const refreshToken = refreshTokenOf(await fresh());
      const first = await s.http("POST", "/auth/token", {
        body: { grant: "refresh", refreshToken },
      });
      expectStatus(first, 200);
      return { path: "/auth/token", body: { grant: "refresh", refreshToken } };
    },
    status: 401,
    code: "refresh_token_reused",
  },
  {
    name: "a grant type that does not exist",
    method: "POST",
    route: "/auth/token",
    request: () => ({ path: "/auth/token", body: { grant: "password", password: "hunter22" } }),
    status: 400,
    code: "invalid_request",
  },
];

const WEBSOCKET: Scenario[] = [
  {
    name: "a one-time ticket for the WebSocket",
    method: "POST",
    route: "/ws/tickets",
    request: () => ({ path: "/ws/tickets", token: alice.token }),
    status: 200,
    after(res) {
      expect(typeof res.json?.ticket).toBe("string");
      expect(res.json?.expiresAt).toBeGreaterThan(Date.now());
    },
  },
  {
    name: "an upgrade with a ticket already spent",
    method: "GET",
    route: "/ws?ticket=",
    request: async () => {
      const res = await s.http("POST", "/ws/tickets", { token: alice.token });
      const ticket = res.json?.ticket as string;
      const first = await fetch(`${s.url}/api/v1/ws?ticket=${ticket}`, { headers: wsUpgrade });
      expect(first.status).toBe(101);
      return { path: `/ws?ticket=${ticket}`, headers: wsUpgrade };
    },
    status: 401,
    code: "ticket_invalid",
  },
  {
    name: "an upgrade with a ticket the server never issued",
    method: "GET",
    route: "/ws?ticket=",
    request: () => ({ path: `/ws?ticket=${bytes(32)}`, headers: wsUpgrade }),
    status: 401,
    code: "ticket_invalid",
  },
  {
    name: "an upgrade without a ticket",
    method: "GET",
    route: "/ws",
    request: () => ({ path: "/ws", headers: wsUpgrade }),
    status: 400,
    code: "invalid_request",
  },
];

// What a row's request made, for its `after` checks.
let totpSecret = "";
let deleted: TestUser | undefined;
let revoked: { owner: TestUser; second: TestUser } | undefined;
let taken: { slotId: string; readToken: string } | undefined;

const ACCOUNT: Scenario[] = [
  {
    name: "this account",
    method: "GET",
    route: "/account",
    request: () => ({ path: "/account", token: alice.token }),
    status: 200,
    after: (res) =>
      expect(res.json).toMatchObject({
        userId: alice.state.userId,
        username: alice.username,
        isAdmin: false,
        lastSeenVisibility: expect.any(String),
      }),
  },
  {
    name: "a new encrypted profile",
    method: "PUT",
    route: "/account/profile",
    request: () => ({
      path: "/account/profile",
      token: alice.token,
      body: { profileCiphertext: "cHJvZmlsZQ" },
    }),
    status: 204,
    async after() {
      const me = await s.http("GET", "/account", { token: alice.token });
      expect(me.json?.profileCiphertext).toBe("cHJvZmlsZQ");
    },
  },
  {
    name: "last seen hidden from everyone",
    method: "PUT",
    route: "/account/settings",
    request: () => ({
      path: "/account/settings",
      token: alice.token,
      body: { lastSeenVisibility: "nobody" },
    }),
    status: 204,
    async after() {
      const me = await s.http("GET", "/account", { token: alice.token });
      expect(me.json?.lastSeenVisibility).toBe("nobody");
    },
  },
  {
    name: "a visibility that does not exist",
    method: "PUT",
    route: "/account/settings",
    request: () => ({
      path: "/account/settings",
      token: alice.token,
      body: { lastSeenVisibility: "friends" },
    }),
    status: 400,
    code: "invalid_request",
    after: (res) => expect(res.json?.details).toEqual({ field: "body.lastSeenVisibility" }),
  },
  {
    name: "the account is deleted, its token dies and its username is kept from others",
    method: "DELETE",
    route: "/account",
    request: async () => {
      const doomed = await fresh();
      deleted = doomed;
      return { path: "/account", token: doomed.token };
    },
    status: 204,
    async after() {
      const gone = deleted!;
      expectError(await s.http("GET", "/account", { token: gone.token }), 401, "invalid_token");
      expectError(
        await s.http("POST", "/auth/token", { body: signInBody(gone) }),
        401,
        "sign_in_failed",
      );
      expectError(
        await s.http("GET", `/users/${gone.state.userId}`, { token: alice.token }),
        404,
        "user_not_found",
      );
      const again = await s.registration({ username: gone.username });
      expectError(await s.http("POST", "/accounts", { body: again.body }), 409, "username_taken");
    },
  },
  {
    name: "a code by SMS outside OTP mode",
    method: "POST",
    route: "/otp",
    request: () => ({ path: "/otp", body: { phone: "+15551234567" } }),
    status: 403,
    code: "registration_closed",
  },
  {
    name: "a code by email outside OTP mode",
    method: "POST",
    route: "/otp",
    request: () => ({ path: "/otp", body: { email: "alice@example.org" } }),
    status: 403,
    code: "registration_closed",
  },
  {
    name: "both a phone number and an email address",
    method: "POST",
    route: "/otp",
    request: () => ({ path: "/otp", body: { phone: "+15551234567", email: "a@example.org" } }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "neither a phone number nor an email address",
    method: "POST",
    route: "/otp",
    request: () => ({ path: "/otp", body: {} }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a phone number not in E.164",
    method: "POST",
    route: "/otp",
    request: () => ({ path: "/otp", body: { phone: "555-1234" } }),
    status: 400,
    code: "invalid_request",
    after: (res) => expect(res.json?.details).toEqual({ field: "body.phone" }),
  },
];

// One enrolment, in order: these rows share `tina` and the secret she is given.
const tina = await s.user();
const TOTP_ENROLMENT: Scenario[] = [
  {
    name: "confirming before enrolling",
    method: "POST",
    route: "/account/totp/confirm",
    request: () => ({ path: "/account/totp/confirm", token: tina.token, body: { code: "123456" } }),
    status: 409,
    code: "totp_not_enrolled",
  },
  {
    name: "removing before enrolling",
    method: "DELETE",
    route: "/account/totp",
    request: () => ({ path: "/account/totp", token: tina.token, body: { code: "123456" } }),
    status: 409,
    code: "totp_not_enrolled",
  },
  {
    name: "enrolment begins with a secret and an otpauth URI",
    method: "POST",
    route: "/account/totp",
    request: () => ({ path: "/account/totp", token: tina.token }),
    status: 200,
    after(res) {
      totpSecret = res.json?.secret as string;
      expect(totpSecret).toMatch(/^[A-Z2-7]+$/);
      expect(res.json?.uri).toStartWith("otpauth://totp/");
    },
  },
  {
    name: "confirming with a wrong code",
    method: "POST",
    route: "/account/totp/confirm",
    request: () => ({
      path: "/account/totp/confirm",
      token: tina.token,
      body: { code: wrongTotpCode(totpSecret) },
    }),
    status: 403,
    code: "second_factor_invalid",
  },
  {
    name: "confirming with the current code gives recovery codes",
    method: "POST",
    route: "/account/totp/confirm",
    request: () => ({
      path: "/account/totp/confirm",
      token: tina.token,
      body: { code: totpCode(totpSecret) },
    }),
    status: 200,
    after: (res) => expect(res.json?.recoveryCodes).toHaveLength(10),
  },
  {
    name: "beginning again once enrolled",
    method: "POST",
    route: "/account/totp",
    request: () => ({ path: "/account/totp", token: tina.token }),
    status: 409,
    code: "totp_already_enrolled",
  },
  {
    name: "confirming again once enrolled",
    method: "POST",
    route: "/account/totp/confirm",
    request: () => ({
      path: "/account/totp/confirm",
      token: tina.token,
      body: { code: totpCode(totpSecret) },
    }),
    status: 409,
    code: "totp_already_enrolled",
  },
  {
    name: "removing with a wrong code",
    method: "DELETE",
    route: "/account/totp",
    request: () => ({
      path: "/account/totp",
      token: tina.token,
      body: { code: wrongTotpCode(totpSecret) },
    }),
    status: 403,
    code: "second_factor_invalid",
  },
  {
    name: "removing with the current code",
    method: "DELETE",
    route: "/account/totp",
    request: () => ({
      path: "/account/totp",
      token: tina.token,
      body: { code: totpCode(totpSecret) },
    }),
    status: 204,
    async after() {
      const again = await s.http("POST", "/account/totp", { token: tina.token });
      expectStatus(again, 200);
    },
  },
  {
    name: "a code of five digits",
    method: "POST",
    route: "/account/totp/confirm",
    request: () => ({ path: "/account/totp/confirm", token: tina.token, body: { code: "12345" } }),
    status: 400,
    code: "invalid_request",
  },
];

const DEVICES: Scenario[] = [
  {
    name: "this account's devices",
    method: "GET",
    route: "/devices",
    request: () => ({ path: "/devices", token: alice.token }),
    status: 200,
    after: (res) =>
      expect(res.json as unknown).toEqual([
        expect.objectContaining({ deviceId: alice.state.deviceId, platform: "cli", current: true }),
      ]),
  },
  {
    name: "a device is renamed",
    method: "PATCH",
    route: "/devices/:deviceId",
    request: () => ({
      path: `/devices/${alice.state.deviceId}`,
      token: alice.token,
      body: { nameCiphertext: "bmFtZQ" },
    }),
    status: 204,
    async after() {
      const list = await s.http("GET", "/devices", { token: alice.token });
      expect((list.json as unknown as { nameCiphertext?: string }[])[0]?.nameCiphertext).toBe(
        "bmFtZQ",
      );
    },
  },
  {
    name: "renaming a device that does not exist",
    method: "PATCH",
    route: "/devices/:deviceId",
    request: () => ({
      path: `/devices/${unknownId()}`,
      token: alice.token,
      body: { nameCiphertext: "bmFtZQ" },
    }),
    status: 404,
    code: "device_not_found",
  },
  {
    name: "a device is revoked with the list without it",
    method: "DELETE",
    route: "/devices/:deviceId",
    request: async () => {
      const { owner, second } = await s.userWithTwoDevices();
      revoked = { owner, second };
      const deviceList = await s.nextList(owner, (d) => d.deviceId !== second.state.deviceId);
      return {
        path: `/devices/${second.state.deviceId}`,
        token: owner.token,
        body: { deviceList },
      };
    },
    status: 204,
    async after() {
      const { owner, second } = revoked!;
      const list = await s.http("GET", "/devices", { token: owner.token });
      expect((list.json as unknown as { deviceId: string }[]).map((d) => d.deviceId)).toEqual([
        owner.state.deviceId,
      ]);
      expectError(await s.http("GET", "/account", { token: second.token }), 401, "device_revoked");
    },
  },
  {
    name: "revoking a device that does not exist",
    method: "DELETE",
    route: "/devices/:deviceId",
    request: async () => ({
      path: `/devices/${unknownId()}`,
      token: alice.token,
      body: { deviceList: await s.nextList(alice, () => true) },
    }),
    status: 404,
    code: "device_not_found",
  },
  {
    name: "renaming a revoked device",
    method: "PATCH",
    route: "/devices/:deviceId",
    request: async () => {
      const { owner, second } = await userWithRevokedDevice();
      return {
        path: `/devices/${second.state.deviceId}`,
        token: owner.token,
        body: { nameCiphertext: "bmFtZQ" },
      };
    },
    status: 404,
    code: "device_not_found",
  },
  {
    name: "revoking a device a second time",
    method: "DELETE",
    route: "/devices/:deviceId",
    request: async () => {
      const { owner, second } = await userWithRevokedDevice();
      return {
        path: `/devices/${second.state.deviceId}`,
        token: owner.token,
        body: { deviceList: await s.nextList(owner, () => true) },
      };
    },
    status: 404,
    code: "device_not_found",
  },
  {
    name: "revoking with a list that keeps the device",
    method: "DELETE",
    route: "/devices/:deviceId",
    request: async () => {
      const { owner, second } = await s.userWithTwoDevices();
      const deviceList = await s.nextList(owner, () => true);
      return {
        path: `/devices/${second.state.deviceId}`,
        token: owner.token,
        body: { deviceList },
      };
    },
    status: 409,
    code: "stale_device_list",
  },
  {
    name: "revoking with a list signed by another account key",
    method: "DELETE",
    route: "/devices/:deviceId",
    request: async () => {
      const { owner, second } = await s.userWithTwoDevices();
      const deviceList = await s.nextList(owner, (d) => d.deviceId !== second.state.deviceId, {
        signer: await s.strangerKey(),
      });
      return {
        path: `/devices/${second.state.deviceId}`,
        token: owner.token,
        body: { deviceList },
      };
    },
    status: 422,
    code: "invalid_signature",
  },
  {
    name: "revoking with a list at the current version (a fork)",
    method: "DELETE",
    route: "/devices/:deviceId",
    request: async () => {
      const { owner, second } = await s.userWithTwoDevices();
      await s.nextList(owner, () => true); // brings owner's copy of the list up to date
      const current = owner.state.deviceList!;
      const fork = await signDeviceList(
        ctx,
        asAccountSecretKey(owner.state.accountKeyPair.secretKey),
        {
          userId: owner.state.userId,
          version: current.version,
          previousHash: current.previousHash,
          devices: current.devices.filter((d) => d.deviceId !== second.state.deviceId),
        },
      );
      return {
        path: `/devices/${second.state.deviceId}`,
        token: owner.token,
        body: { deviceList: toBase64Url(encodeDeviceList(fork)) },
      };
    },
    status: 409,
    code: "device_list_rollback",
  },
  {
    name: "a new device links itself with the next list",
    method: "POST",
    route: "/devices",
    request: async () => ({ path: "/devices", body: (await s.linkRequest(await fresh())).body }),
    status: 201,
    async after(res) {
      const tokens = res.json as Tokens;
      const list = await s.http("GET", "/devices", { token: tokens.accessToken });
      expect((list.json as unknown as unknown[]).length).toBe(2);
    },
  },
  {
    name: "linking to an account that does not exist",
    method: "POST",
    route: "/devices",
    request: async () => {
      const { body } = await s.linkRequest(await fresh());
      body.userId = unknownId();
      return { path: "/devices", body };
    },
    status: 404,
    code: "user_not_found",
  },
  {
    name: "linking with a list that drops the first device",
    method: "POST",
    route: "/devices",
    request: async () => {
      const { body } = await s.linkRequest(await fresh(), { devices: (_, added) => [added] });
      return { path: "/devices", body };
    },
    status: 409,
    code: "stale_device_list",
  },
  {
    name: "linking with a list signed by another account key",
    method: "POST",
    route: "/devices",
    request: async () => {
      const owner = await fresh();
      const { body, state } = await s.linkRequest(owner);
      const forged = await signDeviceList(
        ctx,
        asAccountSecretKey((await s.strangerKey()).secretKey),
        { ...state.deviceList! },
      );
      body.deviceList = toBase64Url(encodeDeviceList(forged));
      return { path: "/devices", body };
    },
    status: 422,
    code: "invalid_signature",
  },
  {
    name: "linking with the device id of another user's device",
    method: "POST",
    route: "/devices",
    request: async () => ({
      path: "/devices",
      body: (await s.linkRequest(await fresh(), { deviceId: bob.state.deviceId })).body,
    }),
    status: 409,
    code: "device_exists",
  },
  {
    name: "a user's signed device lists",
    method: "GET",
    route: "/users/:userId/device-lists",
    request: () => ({ path: `/users/${bob.state.userId}/device-lists`, token: alice.token }),
    status: 200,
    after: (res) =>
      expect(res.json?.lists).toEqual([{ version: 1, deviceList: expect.any(String) }]),
  },
  {
    name: "device lists after the newest version",
    method: "GET",
    route: "/users/:userId/device-lists",
    request: () => ({
      path: `/users/${bob.state.userId}/device-lists?since=1`,
      token: alice.token,
    }),
    status: 200,
    after: (res) => expect(res.json?.lists).toEqual([]),
  },
  {
    name: "device lists of a user who does not exist",
    method: "GET",
    route: "/users/:userId/device-lists",
    request: () => ({ path: `/users/${unknownId()}/device-lists`, token: alice.token }),
    status: 404,
    code: "user_not_found",
  },
];

const KEYS: Scenario[] = [
  {
    name: "more one-time prekeys",
    method: "PUT",
    route: "/keys",
    request: async () => ({
      path: "/keys",
      token: alice.token,
      body: { oneTimePrekeys: await s.prekeys(alice.state, { count: 2 }) },
    }),
    status: 204,
    async after() {
      const counts = await s.http("GET", "/keys/count", { token: alice.token });
      expect(counts.json?.oneTime).toBeGreaterThanOrEqual(2);
    },
  },
  {
    name: "a prekey signed by another account key",
    method: "PUT",
    route: "/keys",
    request: async () => ({
      path: "/keys",
      token: alice.token,
      body: { oneTimePrekeys: await s.prekeys(alice.state, { signer: await s.strangerKey() }) },
    }),
    status: 422,
    code: "invalid_signature",
  },
  {
    name: "a prekey signed for another device",
    method: "PUT",
    route: "/keys",
    request: async () => ({
      path: "/keys",
      token: alice.token,
      body: { oneTimePrekeys: await s.prekeys(alice.state, { deviceId: unknownId() }) },
    }),
    status: 400,
    code: "invalid_key",
  },
  {
    name: "a one-time prekey sent as the signed prekey",
    method: "PUT",
    route: "/keys",
    request: async () => ({
      path: "/keys",
      token: alice.token,
      body: { signedPrekey: (await s.prekeys(alice.state))[0] },
    }),
    status: 400,
    code: "invalid_key",
  },
  {
    name: "a prekey id published before",
    method: "PUT",
    route: "/keys",
    request: async () => {
      const oneTimePrekeys = await s.prekeys(alice.state);
      const first = await s.http("PUT", "/keys", { token: alice.token, body: { oneTimePrekeys } });
      expectStatus(first, 204);
      return { path: "/keys", token: alice.token, body: { oneTimePrekeys } };
    },
    status: 409,
    code: "device_exists",
  },
  {
    name: "the same prekey twice in one upload",
    method: "PUT",
    route: "/keys",
    request: async () => {
      const [key] = await s.prekeys(alice.state);
      return { path: "/keys", token: alice.token, body: { oneTimePrekeys: [key, key] } };
    },
    status: 400,
    code: "invalid_request",
  },
  {
    name: "how many prekeys are left",
    method: "GET",
    route: "/keys/count",
    request: () => ({ path: "/keys/count", token: bob.token }),
    status: 200,
    after: (res) =>
      expect(res.json).toEqual({
        oneTime: 5,
        pqOneTime: 1,
        hasSignedPrekey: true,
        hasLastResort: true,
      }),
  },
  {
    name: "another user's key bundles",
    method: "GET",
    route: "/users/:userId/keys",
    request: () => ({ path: `/users/${bob.state.userId}/keys`, token: alice.token }),
    status: 200,
    after(res) {
      expect(res.json?.userId).toBe(bob.state.userId);
      expect(res.json?.devices).toEqual([
        expect.objectContaining({
          deviceId: bob.state.deviceId,
          oneTimePrekey: expect.any(String),
        }),
      ]);
    },
  },
  {
    name: "one device's bundle",
    method: "GET",
    route: "/users/:userId/keys?deviceId=",
    request: () => ({
      path: `/users/${bob.state.userId}/keys?deviceId=${bob.state.deviceId}`,
      token: alice.token,
    }),
    status: 200,
  },
  {
    name: "the bundle of a revoked device",
    method: "GET",
    route: "/users/:userId/keys?deviceId=",
    request: async () => {
      const { owner, second } = await userWithRevokedDevice();
      return {
        path: `/users/${owner.state.userId}/keys?deviceId=${second.state.deviceId}`,
        token: alice.token,
      };
    },
    status: 404,
    code: "device_not_found",
  },
  {
    name: "bundles of a deleted account",
    method: "GET",
    route: "/users/:userId/keys",
    request: async () => {
      const gone = await fresh();
      expectStatus(await s.http("DELETE", "/account", { token: gone.token }), 204);
      return { path: `/users/${gone.state.userId}/keys`, token: alice.token };
    },
    status: 404,
    code: "user_not_found",
  },
  {
    name: "bundles of a user who does not exist",
    method: "GET",
    route: "/users/:userId/keys",
    request: () => ({ path: `/users/${unknownId()}/keys`, token: alice.token }),
    status: 404,
    code: "user_not_found",
  },
  {
    name: "another user's device named as this user's",
    method: "GET",
    route: "/users/:userId/keys?deviceId=",
    request: () => ({
      path: `/users/${bob.state.userId}/keys?deviceId=${alice.state.deviceId}`,
      token: alice.token,
    }),
    status: 404,
    code: "device_not_found",
  },
];

const USERS: Scenario[] = [
  {
    name: "a user by exact username",
    method: "GET",
    route: "/users/by-username/:username",
    request: () => ({ path: `/users/by-username/${bob.username}`, token: alice.token }),
    status: 200,
    after: (res) =>
      expect(res.json).toMatchObject({ userId: bob.state.userId, username: bob.username }),
  },
  {
    name: "a username no one has",
    method: "GET",
    route: "/users/by-username/:username",
    request: () => ({ path: "/users/by-username/nobody_here", token: alice.token }),
    status: 404,
    code: "user_not_found",
  },
  {
    name: "a username that cannot exist",
    method: "GET",
    route: "/users/by-username/:username",
    request: () => ({ path: "/users/by-username/NO", token: alice.token }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "usernames containing the query",
    method: "GET",
    route: "/users/search?q=",
    request: () => ({ path: `/users/search?q=${bob.username.slice(1)}`, token: alice.token }),
    status: 200,
    after: (res) =>
      expect(res.json?.users).toContainEqual({ userId: bob.state.userId, username: bob.username }),
  },
  {
    name: "a search of two characters",
    method: "GET",
    route: "/users/search?q=",
    request: () => ({ path: "/users/search?q=ab", token: alice.token }),
    status: 400,
    code: "invalid_request",
    after: (res) => expect(res.json?.details).toEqual({ field: "query.q" }),
  },
  {
    name: "a search of 33 characters",
    method: "GET",
    route: "/users/search?q=",
    request: () => ({ path: `/users/search?q=${"a".repeat(33)}`, token: alice.token }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a search without q",
    method: "GET",
    route: "/users/search",
    request: () => ({ path: "/users/search", token: alice.token }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a user's public profile",
    method: "GET",
    route: "/users/:userId",
    request: () => ({ path: `/users/${bob.state.userId}`, token: alice.token }),
    status: 200,
    after: (res) =>
      expect(res.json).toMatchObject({ userId: bob.state.userId, accountKey: expect.any(String) }),
  },
  {
    name: "a user who does not exist",
    method: "GET",
    route: "/users/:userId",
    request: () => ({ path: `/users/${unknownId()}`, token: alice.token }),
    status: 404,
    code: "user_not_found",
  },
  {
    name: "a user id that is not a UUID",
    method: "GET",
    route: "/users/:userId",
    request: () => ({ path: "/users/not-a-uuid", token: alice.token }),
    status: 400,
    code: "invalid_request",
  },
];

// In order: carol adds bob, blocks and unblocks him, then removes him.
const carol = await s.user();
const contactsOf = async (u: TestUser) =>
  (await s.http("GET", "/contacts", { token: u.token })).json?.contacts as {
    userId: string;
    blocked: boolean;
    nicknameCiphertext?: string;
  }[];
const CONTACTS: Scenario[] = [
  {
    name: "a contact with a nickname",
    method: "PUT",
    route: "/contacts/:userId",
    request: () => ({
      path: `/contacts/${bob.state.userId}`,
      token: carol.token,
      body: { nicknameCiphertext: "Ym9i" },
    }),
    status: 204,
  },
  {
    name: "the contacts",
    method: "GET",
    route: "/contacts",
    request: () => ({ path: "/contacts", token: carol.token }),
    status: 200,
    after: (res) =>
      expect(res.json?.contacts).toEqual([
        expect.objectContaining({
          userId: bob.state.userId,
          blocked: false,
          nicknameCiphertext: "Ym9i",
        }),
      ]),
  },
  {
    name: "a contact blocked (the nickname stays)",
    method: "PUT",
    route: "/contacts/:userId",
    request: () => ({
      path: `/contacts/${bob.state.userId}`,
      token: carol.token,
      body: { blocked: true },
    }),
    status: 204,
    after: async () =>
      expect(await contactsOf(carol)).toEqual([
        expect.objectContaining({ blocked: true, nicknameCiphertext: "Ym9i" }),
      ]),
  },
  {
    name: "a contact unblocked",
    method: "PUT",
    route: "/contacts/:userId",
    request: () => ({
      path: `/contacts/${bob.state.userId}`,
      token: carol.token,
      body: { blocked: false },
    }),
    status: 204,
    after: async () =>
      expect(await contactsOf(carol)).toEqual([expect.objectContaining({ blocked: false })]),
  },
  {
    name: "a contact who does not exist",
    method: "PUT",
    route: "/contacts/:userId",
    request: () => ({ path: `/contacts/${unknownId()}`, token: carol.token, body: {} }),
    status: 404,
    code: "user_not_found",
  },
  {
    name: "oneself as a contact",
    method: "PUT",
    route: "/contacts/:userId",
    request: () => ({ path: `/contacts/${carol.state.userId}`, token: carol.token, body: {} }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "a contact removed",
    method: "DELETE",
    route: "/contacts/:userId",
    request: () => ({ path: `/contacts/${bob.state.userId}`, token: carol.token }),
    status: 204,
    after: async () => expect(await contactsOf(carol)).toEqual([]),
  },
  {
    name: "removing someone who is not a contact",
    method: "DELETE",
    route: "/contacts/:userId",
    request: () => ({ path: `/contacts/${bob.state.userId}`, token: carol.token }),
    status: 404,
    code: "user_not_found",
  },
];

const PROVISIONING: Scenario[] = [
  {
    name: "a new device opens a slot",
    method: "POST",
    route: "/provisioning",
    request: () => ({ path: "/provisioning" }),
    status: 201,
    after: (res) =>
      expect(res.json).toEqual({
        slotId: expect.any(String),
        readToken: expect.any(String),
        expiresAt: expect.any(Number),
      }),
  },
  {
    name: "a signed-in device drops the envelope",
    method: "PUT",
    route: "/provisioning/:slotId",
    request: async () => ({
      path: `/provisioning/${(await slot()).slotId}`,
      token: alice.token,
      body: { envelope: "ZW52ZWxvcGU" },
    }),
    status: 204,
  },
  {
    name: "a second envelope for a filled slot",
    method: "PUT",
    route: "/provisioning/:slotId",
    request: async () => ({
      path: `/provisioning/${(await slot("Zmlyc3Q")).slotId}`,
      token: alice.token,
      body: { envelope: "c2Vjb25k" },
    }),
    status: 404,
    code: "provisioning_not_found",
  },
  {
    name: "an envelope for a slot that does not exist",
    method: "PUT",
    route: "/provisioning/:slotId",
    request: () => ({
      path: `/provisioning/${unknownId()}`,
      token: alice.token,
      body: { envelope: "ZW52ZWxvcGU" },
    }),
    status: 404,
    code: "provisioning_not_found",
  },
  {
    name: "the new device takes the envelope, once",
    method: "GET",
    route: "/provisioning/:slotId",
    request: async () => {
      const opened = await slot("ZW52ZWxvcGU");
      taken = opened;
      return {
        path: `/provisioning/${opened.slotId}?wait=0`,
        headers: { "x-read-token": opened.readToken },
      };
    },
    status: 200,
    async after(res) {
      expect(res.json).toEqual({ envelope: "ZW52ZWxvcGU" });
      const again = await s.http("GET", `/provisioning/${taken!.slotId}?wait=0`, {
        headers: { "x-read-token": taken!.readToken },
      });
      expectError(again, 404, "provisioning_not_found");
    },
  },
  {
    name: "an empty slot, not waiting",
    method: "GET",
    route: "/provisioning/:slotId",
    request: async () => {
      const opened = await slot();
      return {
        path: `/provisioning/${opened.slotId}?wait=0`,
        headers: { "x-read-token": opened.readToken },
      };
    },
    status: 204,
  },
  {
    name: "a wrong read token",
    method: "GET",
    route: "/provisioning/:slotId",
    request: async () => ({
      path: `/provisioning/${(await slot("ZW52ZWxvcGU")).slotId}?wait=0`,
      headers: { "x-read-token": "not-the-read-token" },
    }),
    status: 404,
    code: "provisioning_not_found",
  },
  {
    name: "no read token",
    method: "GET",
    route: "/provisioning/:slotId",
    request: async () => ({ path: `/provisioning/${(await slot()).slotId}?wait=0` }),
    status: 401,
    code: "unauthorized",
  },
  {
    name: "a slot that does not exist",
    method: "GET",
    route: "/provisioning/:slotId",
    request: () => ({
      path: `/provisioning/${unknownId()}?wait=0`,
      headers: { "x-read-token": "any-read-token" },
    }),
    status: 404,
    code: "provisioning_not_found",
  },
  {
    name: "a wait past 30 seconds",
    method: "GET",
    route: "/provisioning/:slotId",
    request: async () => {
      const opened = await slot();
      return {
        path: `/provisioning/${opened.slotId}?wait=31`,
        headers: { "x-read-token": opened.readToken },
      };
    },
    status: 400,
    code: "invalid_request",
  },
];

const TABLES: Record<string, Scenario[]> = {
  registration: REGISTRATION,
  "sign-in and tokens": TOKENS,
  websocket: WEBSOCKET,
  account: ACCOUNT,
  "two-factor enrolment": TOTP_ENROLMENT,
  devices: DEVICES,
  keys: KEYS,
  users: USERS,
  contacts: CONTACTS,
  provisioning: PROVISIONING,
};

for (const [table, rows] of Object.entries(TABLES)) {
  describe(table, () => {
    for (const row of rows) test(scenarioTitle(row), () => runScenario(s, row), 10_000);
  });
}

describe("websocket, with a real socket", () => {
  test("GET /ws?ticket=: a fresh ticket opens the socket and the server says ready", async () => {
    const res = await s.http("POST", "/ws/tickets", { token: alice.token });
    const ws = new WebSocket(
      `${s.url.replace(/^http/, "ws")}/api/v1/ws?ticket=${res.json?.ticket}`,
    );
    const first = await new Promise<string>((resolve, reject) => {
      ws.onmessage = (e) => resolve(String(e.data));
      ws.onerror = () => reject(new Error("the socket failed"));
    });
    ws.close();
    expect(JSON.parse(first)).toEqual({ type: "ready", deviceId: alice.state.deviceId });
  });
});

describe("expiry, with the server's clock moved forward", () => {
  /** Runs `work` with the server's clock `ms` ahead, then puts it back. */
  async function later<T>(ms: number, work: () => Promise<T>): Promise<T> {
    s.clock.offsetMs = ms;
    try {
      return await work();
    } finally {
      s.clock.offsetMs = 0;
    }
  }
  const ELEVEN_MINUTES = 11 * 60_000;

  test("PUT /provisioning/:slotId: a slot past its 10 minutes → 404 provisioning_not_found", async () => {
    const { slotId } = await slot();
    const res = await later(ELEVEN_MINUTES, () =>
      s.http("PUT", `/provisioning/${slotId}`, {
        token: alice.token,
        body: { envelope: "ZW52ZWxvcGU" },
      }),
    );
    expectError(res, 404, "provisioning_not_found");
  });

  test("GET /provisioning/:slotId: an envelope past the slot's 10 minutes → 404 provisioning_not_found", async () => {
    const { slotId, readToken } = await slot("ZW52ZWxvcGU");
    const res = await later(ELEVEN_MINUTES, () =>
      s.http("GET", `/provisioning/${slotId}?wait=0`, { headers: { "x-read-token": readToken } }),
    );
    expectError(res, 404, "provisioning_not_found");
  });

  test("GET /ws?ticket=: a ticket past its 30 seconds → 401 ticket_invalid", async () => {
    const ticket = (await s.http("POST", "/ws/tickets", { token: alice.token })).json?.ticket;
    const res = await later(31_000, () =>
      s.http("GET", `/ws?ticket=${ticket}`, { headers: wsUpgrade }),
    );
    expectError(res, 401, "ticket_invalid");
  });

  test("GET /account: an access token past its 15 minutes → 401 token_expired", async () => {
    const res = await later(16 * 60_000, () => s.http("GET", "/account", { token: alice.token }));
    expectError(res, 401, "token_expired");
  });
});

// A server with at most two devices per account and the directory search off.
const dana = await restricted.user();
const RESTRICTED: Scenario[] = [
  {
    name: "a third device when two are allowed",
    method: "POST",
    route: "/devices",
    request: async () => {
      const second = await restricted.linkRequest(dana);
      expectStatus(await restricted.http("POST", "/devices", { body: second.body }), 201);
      return { path: "/devices", body: (await restricted.linkRequest(dana)).body };
    },
    status: 409,
    code: "device_limit",
  },
  {
    name: "a search when the directory search is off",
    method: "GET",
    route: "/users/search?q=",
    request: () => ({ path: "/users/search?q=dana", token: dana.token }),
    status: 403,
    code: "directory_disabled",
  },
  {
    name: "lookup by exact username still works with the search off",
    method: "GET",
    route: "/users/by-username/:username",
    request: () => ({ path: `/users/by-username/${dana.username}`, token: dana.token }),
    status: 200,
  },
];

describe("max 2 devices, directory search off", () => {
  for (const row of RESTRICTED)
    test(scenarioTitle(row), () => runScenario(restricted, row), 10_000);
});

test("no request in this file was logged as an unhandled error", () => {
  const errors = [...s.log.entries(), ...restricted.log.entries()].filter(
    (e) => e.level === "error",
  );
  expect(errors).toEqual([]);
});

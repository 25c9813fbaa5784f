// The authorization matrix: every route that needs a signed-in device, each with every kind
// of bad credential, generated from one route table. The requests are otherwise valid (a body
// that passes validation, paths naming real resources of the first user), so the only thing
// wrong with each is who sends it.
import { afterAll, describe, expect, test } from "bun:test";
import { generateKeyPair, SignJWT } from "jose";
import type { ErrorCode } from "../../protocol/errors.ts";
import { accountsServer, expectError, expectStatus } from "./support.ts";

const s = await accountsServer();
afterAll(() => s.cleanup());

// alice owns the resources; her laptop is revoked; carol is her contact; bob is someone else.
const { owner: alice, second: laptop } = await s.userWithTwoDevices();
const bob = await s.user();
const carol = await s.user();
expectStatus(
  await s.http("DELETE", `/devices/${laptop.state.deviceId}`, {
    token: alice.token,
    body: { deviceList: await s.nextList(alice, (d) => d.deviceId !== laptop.state.deviceId) },
  }),
  204,
);
expectStatus(
  await s.http("PUT", `/contacts/${carol.state.userId}`, { token: alice.token, body: {} }),
  204,
);
const slot = (await s.http("POST", "/provisioning")).json as { slotId: string };

/** Valid bodies, built once: none of them is ever applied. */
const bodies = {
  // A signed next list (alice's last device cannot be dropped from it: a list is never empty).
  revokeOwnDevice: { deviceList: await s.nextList(alice, () => true) },
  keys: { oneTimePrekeys: await s.prekeys(alice.state) },
  totpCode: { code: "123456" },
};

interface SignedInRoute {
  method: string;
  route: string;
  path: string;
  body?: unknown;
}

/** Every route that needs a signed-in device, with a request that is valid but for its token. */
const SIGNED_IN_ROUTES: SignedInRoute[] = [
  { method: "POST", route: "/ws/tickets", path: "/ws/tickets" },
  { method: "GET", route: "/account", path: "/account" },
  {
    method: "PUT",
    route: "/account/profile",
    path: "/account/profile",
    body: { profileCiphertext: "cHJvZmlsZQ" },
  },
  {
    method: "PUT",
    route: "/account/settings",
    path: "/account/settings",
    body: { lastSeenVisibility: "nobody" },
  },
  { method: "DELETE", route: "/account", path: "/account" },
  { method: "POST", route: "/account/totp", path: "/account/totp" },
  {
    method: "POST",
    route: "/account/totp/confirm",
    path: "/account/totp/confirm",
    body: bodies.totpCode,
  },
  { method: "DELETE", route: "/account/totp", path: "/account/totp", body: bodies.totpCode },
  { method: "GET", route: "/devices", path: "/devices" },
  {
    method: "PATCH",
    route: "/devices/:deviceId",
    path: `/devices/${alice.state.deviceId}`,
    body: { nameCiphertext: "bmFtZQ" },
  },
  {
    method: "DELETE",
    route: "/devices/:deviceId",
    path: `/devices/${alice.state.deviceId}`,
    body: bodies.revokeOwnDevice,
  },
  {
    method: "GET",
    route: "/users/:userId/device-lists",
    path: `/users/${bob.state.userId}/device-lists`,
  },
  { method: "PUT", route: "/keys", path: "/keys", body: bodies.keys },
  { method: "GET", route: "/keys/count", path: "/keys/count" },
  { method: "GET", route: "/users/:userId/keys", path: `/users/${bob.state.userId}/keys` },
  {
    method: "GET",
    route: "/users/by-username/:username",
    path: `/users/by-username/${bob.username}`,
  },
  { method: "GET", route: "/users/search", path: `/users/search?q=${bob.username.slice(0, 4)}` },
  { method: "GET", route: "/users/:userId", path: `/users/${bob.state.userId}` },
  { method: "GET", route: "/contacts", path: "/contacts" },
  {
    method: "PUT",
    route: "/contacts/:userId",
    path: `/contacts/${bob.state.userId}`,
    body: { blocked: true },
  },
  { method: "DELETE", route: "/contacts/:userId", path: `/contacts/${carol.state.userId}` },
  {
    method: "PUT",
    route: "/provisioning/:slotId",
    path: `/provisioning/${slot.slotId}`,
    body: { envelope: "ZW52ZWxvcGU" },
  },
];

interface BadCredential {
  name: string;
  /** The Authorization header, or none. */
  authorization: string | undefined;
  code: ErrorCode;
}

const forgedKey = (await generateKeyPair("EdDSA", { crv: "Ed25519" })).privateKey;
/** A well-formed access token for alice's device, signed by a key that is not the server's. */
const forgedToken = await new SignJWT({ did: alice.state.deviceId })
  .setProtectedHeader({ alg: "EdDSA", typ: "JWT" })
  .setIssuer("parley")
  .setSubject(alice.state.userId)
  .setIssuedAt()
  .setExpirationTime("10m")
  .sign(forgedKey);

const BAD_CREDENTIALS: BadCredential[] = [
  { name: "no token", authorization: undefined, code: "unauthorized" },
  { name: "a garbage token", authorization: "Bearer garbage.token.here", code: "invalid_token" },
  {
    name: "a revoked device's token",
    authorization: `Bearer ${laptop.token}`,
    code: "device_revoked",
  },
  {
    name: "an expired token",
    authorization: `Bearer ${await s.expiredToken(alice)}`,
    code: "token_expired",
  },
];

function send(route: SignedInRoute, authorization: string | undefined) {
  return s.http(route.method, route.path, {
    body: route.body,
    headers: authorization === undefined ? {} : { authorization },
  });
}

describe("every signed-in route refuses bad credentials", () => {
  for (const route of SIGNED_IN_ROUTES) {
    for (const credential of BAD_CREDENTIALS) {
      test(`${route.method} ${route.route}: ${credential.name} → 401 ${credential.code}`, async () => {
        expectError(await send(route, credential.authorization), 401, credential.code);
      });
    }
  }

  test("the table covers every route that calls signedIn", async () => {
    // Routes files mention `signedIn(request` once per signed-in handler.
    let calls = 0;
    for (const file of ["accounts", "devices", "keys", "users", "provisioning"]) {
      const text = await Bun.file(`${import.meta.dir}/../../server/http/routes/${file}.ts`).text();
      calls += text.match(/signedIn\(request/g)?.length ?? 0;
    }
    expect(SIGNED_IN_ROUTES.length).toBe(calls);
  });
});

describe("tokens that look right but are not", () => {
  const account = SIGNED_IN_ROUTES.find((r) => r.route === "/account" && r.method === "GET")!;
  const CASES: BadCredential[] = [
    { name: "an empty bearer token", authorization: "Bearer ", code: "unauthorized" },
    {
      name: "another scheme",
      authorization: `Basic ${btoa("alice:secret")}`,
      code: "unauthorized",
    },
    {
      name: "a token signed by another key",
      authorization: `Bearer ${forgedToken}`,
      code: "invalid_token",
    },
    {
      name: "an unsigned token (alg none)",
      authorization: `Bearer ${forgedToken.split(".").slice(0, 2).join(".")}.`,
      code: "invalid_token",
    },
    {
      name: "a token whose subject was changed to another user",
      authorization: `Bearer ${withClaims(alice.token, { sub: bob.state.userId })}`,
      code: "invalid_token",
    },
  ];
  for (const credential of CASES) {
    test(`GET /account: ${credential.name} → 401 ${credential.code}`, async () => {
      expectError(await send(account, credential.authorization), 401, credential.code);
    });
  }
});

/** The token with its payload claims changed (its signature left as it was). */
function withClaims(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split(".");
  const decoded = JSON.parse(Buffer.from(payload!, "base64url").toString());
  const changed = Buffer.from(JSON.stringify({ ...decoded, ...claims })).toString("base64url");
  return `${header}.${changed}.${signature}`;
}

interface CrossUserCase {
  method: string;
  route: string;
  name: string;
  path: string;
  body?: () => Promise<unknown>;
  status: number;
  code: ErrorCode;
  /** Checks that alice's resource is as it was. */
  unchanged: () => Promise<void>;
}

const aliceDeviceIds = async () =>
  (
    (await s.http("GET", "/devices", { token: alice.token })).json as unknown as {
      deviceId: string;
    }[]
  ).map((d) => d.deviceId);

/** Routes whose path names something of one user's: another user's token finds nothing. */
const CROSS_USER: CrossUserCase[] = [
  {
    method: "PATCH",
    route: "/devices/:deviceId",
    name: "bob renames alice's device",
    path: `/devices/${alice.state.deviceId}`,
    body: async () => ({ nameCiphertext: "b3duZWQ" }),
    status: 404,
    code: "device_not_found",
    async unchanged() {
      const list = await s.http("GET", "/devices", { token: alice.token });
      expect(
        (list.json as unknown as { nameCiphertext?: string }[])[0]?.nameCiphertext,
      ).toBeUndefined();
    },
  },
  {
    method: "DELETE",
    route: "/devices/:deviceId",
    name: "bob revokes alice's device (with a valid list of his own)",
    path: `/devices/${alice.state.deviceId}`,
    body: async () => ({ deviceList: await s.nextList(bob, () => true) }),
    status: 404,
    code: "device_not_found",
    unchanged: async () => expect(await aliceDeviceIds()).toEqual([alice.state.deviceId]),
  },
  {
    method: "DELETE",
    route: "/contacts/:userId",
    name: "bob removes carol, alice's contact and not his",
    path: `/contacts/${carol.state.userId}`,
    status: 404,
    code: "user_not_found",
    async unchanged() {
      const contacts = await s.http("GET", "/contacts", { token: alice.token });
      expect(contacts.json?.contacts).toEqual([
        expect.objectContaining({ userId: carol.state.userId }),
      ]);
    },
  },
];

describe("another user's token on the first user's resources", () => {
  for (const c of CROSS_USER) {
    test(`${c.method} ${c.route}: ${c.name} → ${c.status} ${c.code}`, async () => {
      const res = await s.http(c.method, c.path, { token: bob.token, body: await c.body?.() });
      expectError(res, c.status, c.code);
      await c.unchanged();
    });
  }
});

test("no request in this file was logged as an unhandled error", () => {
  expect(s.log.entries().filter((e) => e.level === "error")).toEqual([]);
});

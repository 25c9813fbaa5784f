// Bad input on every route with a body or parameters: malformed JSON, wrong types, fields
// past their limits, bad base64url, bodies past the 2 MiB cap, then a seeded fuzz of random
// and mutated bodies. The rule under test: a 4xx with a catalogue code, never a 500.
import { afterAll, describe, expect, test } from "bun:test";
import { MAX_KEYS_PER_UPLOAD } from "../../protocol/api/accounts.ts";
import { base64UrlLength } from "../../protocol/api/base64.ts";
import { MAX_PROVISIONING_ENVELOPE_BYTES } from "../../server/domain/accounts/provisioning.ts";
import { accountsServer, expectError, expectErrorShape } from "./support.ts";

const s = await accountsServer();
afterAll(() => s.cleanup());

// `fuzzy` sends everything; `other` is someone to add as a contact.
const fuzzy = await s.user();
const other = await s.user();
const openSlot = async () =>
  ((await s.http("POST", "/provisioning")).json as { slotId: string; readToken: string }).slotId;

const TWO_MIB = 2 * 1024 * 1024;
const tooLong = (maxBytes: number) => "A".repeat(base64UrlLength(maxBytes) + 1);
const many = <T>(n: number, item: T) => Array.from({ length: n }, () => item);

interface BodyRoute {
  method: string;
  route: string;
  path: string;
  /** Whether the route needs a signed-in device (fuzzy's token is sent). */
  auth: boolean;
  /** A body that passes validation. */
  valid: Record<string, unknown>;
  /** The valid body with one field of the wrong type, and the field the error must name. */
  wrongType: { body: unknown; field: string };
  /** Bodies with a string past its maxLength or an array past its maxItems. */
  oversized: { name: string; body: unknown }[];
  /** The valid body with one base64url field set to `value`, and that field's name. */
  bytes?: { field: string; set: (value: string) => unknown };
}

const registration = (await s.registration()).body;
const link = (await s.linkRequest(fuzzy)).body;
const prekeys = await s.prekeys(fuzzy.state, { count: 2 });
const keepAllList = await s.nextList(fuzzy, () => true);
const slotId = await openSlot();

const BODY_ROUTES: BodyRoute[] = [
  {
    method: "POST",
    route: "/accounts",
    path: "/accounts",
    auth: false,
    valid: registration,
    wrongType: {
      body: { ...registration, device: { ...registration.device, platform: 7 } },
      field: "body.device.platform",
    },
    oversized: [
      { name: "a username of 33 characters", body: { ...registration, username: "a".repeat(33) } },
      {
        name: `${MAX_KEYS_PER_UPLOAD + 1} one-time prekeys`,
        body: {
          ...registration,
          keys: {
            ...registration.keys,
            oneTimePrekeys: many(MAX_KEYS_PER_UPLOAD + 1, registration.keys.oneTimePrekeys![0]),
          },
        },
      },
      { name: "a device list past 8 KiB", body: { ...registration, deviceList: tooLong(8192) } },
    ],
    bytes: { field: "body.accountKey", set: (v) => ({ ...registration, accountKey: v }) },
  },
  {
    method: "POST",
    route: "/auth/token",
    path: "/auth/token",
    auth: false,
    valid: { grant: "device", deviceId: fuzzy.state.deviceId, secret: "A".repeat(43) },
    wrongType: {
      body: { grant: "device", deviceId: fuzzy.state.deviceId, secret: 42 },
      field: "body.secret",
    },
    oversized: [
      {
        name: "a refresh token of 201 characters",
        body: { grant: "refresh", refreshToken: "a".repeat(201) },
      },
      {
        name: "a secret past 32 bytes",
        body: { grant: "device", deviceId: fuzzy.state.deviceId, secret: tooLong(32) },
      },
    ],
    bytes: {
      field: "body.secret",
      set: (v) => ({ grant: "device", deviceId: fuzzy.state.deviceId, secret: v }),
    },
  },
  {
    method: "PUT",
    route: "/account/profile",
    path: "/account/profile",
    auth: true,
    valid: { profileCiphertext: "cHJvZmlsZQ" },
    wrongType: { body: { profileCiphertext: 5 }, field: "body.profileCiphertext" },
    oversized: [{ name: "a profile past 64 KiB", body: { profileCiphertext: tooLong(64 * 1024) } }],
    bytes: { field: "body.profileCiphertext", set: (v) => ({ profileCiphertext: v }) },
  },
  {
    method: "PUT",
    route: "/account/settings",
    path: "/account/settings",
    auth: true,
    valid: { lastSeenVisibility: "contacts" },
    wrongType: { body: { lastSeenVisibility: true }, field: "body.lastSeenVisibility" },
    oversized: [
      {
        name: "a visibility of 10,000 characters",
        body: { lastSeenVisibility: "e".repeat(10_000) },
      },
    ],
  },
  {
    method: "POST",
    route: "/account/totp/confirm",
    path: "/account/totp/confirm",
    auth: true,
    valid: { code: "123456" },
    wrongType: { body: { code: 123456 }, field: "body.code" },
    oversized: [{ name: "a code of 7 digits", body: { code: "1234567" } }],
  },
  {
    method: "DELETE",
    route: "/account/totp",
    path: "/account/totp",
    auth: true,
    valid: { code: "123456" },
    wrongType: { body: { code: null }, field: "body.code" },
    oversized: [{ name: "a code of 1,000 digits", body: { code: "1".repeat(1000) } }],
  },
  {
    method: "POST",
    route: "/otp",
    path: "/otp",
    auth: false,
    valid: { email: "fuzzy@example.org" },
    wrongType: { body: { phone: 15551234567 }, field: "body.phone" },
    oversized: [
      {
        name: "an email address of 255 characters",
        body: { email: `${"a".repeat(243)}@example.org` },
      },
      { name: "a phone number of 16 digits", body: { phone: `+1${"5".repeat(15)}` } },
    ],
  },
  {
    method: "POST",
    route: "/devices",
    path: "/devices",
    auth: false,
    valid: link,
    wrongType: {
      body: { ...link, keys: { ...link.keys, oneTimePrekeys: "not-an-array" } },
      field: "body.keys.oneTimePrekeys",
    },
    oversized: [
      {
        name: "a device name past 512 bytes",
        body: { ...link, device: { ...link.device, nameCiphertext: tooLong(512) } },
      },
      {
        name: `${MAX_KEYS_PER_UPLOAD + 1} PQ one-time prekeys`,
        body: {
          ...link,
          keys: { ...link.keys, pqOneTimePrekeys: many(MAX_KEYS_PER_UPLOAD + 1, "AAAA") },
        },
      },
    ],
    bytes: {
      field: "body.device.certificate",
      set: (v) => ({ ...link, device: { ...link.device, certificate: v } }),
    },
  },
  {
    method: "PATCH",
    route: "/devices/:deviceId",
    path: `/devices/${fuzzy.state.deviceId}`,
    auth: true,
    valid: { nameCiphertext: "bmFtZQ" },
    wrongType: { body: { nameCiphertext: ["bmFtZQ"] }, field: "body.nameCiphertext" },
    oversized: [{ name: "a name past 512 bytes", body: { nameCiphertext: tooLong(512) } }],
    bytes: { field: "body.nameCiphertext", set: (v) => ({ nameCiphertext: v }) },
  },
  {
    method: "DELETE",
    route: "/devices/:deviceId",
    path: `/devices/${fuzzy.state.deviceId}`,
    auth: true,
    valid: { deviceList: keepAllList },
    wrongType: { body: { deviceList: {} }, field: "body.deviceList" },
    oversized: [{ name: "a device list past 8 KiB", body: { deviceList: tooLong(8192) } }],
    bytes: { field: "body.deviceList", set: (v) => ({ deviceList: v }) },
  },
  {
    method: "PUT",
    route: "/keys",
    path: "/keys",
    auth: true,
    valid: { oneTimePrekeys: prekeys },
    wrongType: { body: { signedPrekey: 1 }, field: "body.signedPrekey" },
    oversized: [
      {
        name: `${MAX_KEYS_PER_UPLOAD + 1} one-time prekeys`,
        body: { oneTimePrekeys: many(MAX_KEYS_PER_UPLOAD + 1, prekeys[0]) },
      },
      { name: "a signed prekey past 256 bytes", body: { signedPrekey: tooLong(256) } },
      { name: "a PQ last-resort prekey past 2 KiB", body: { pqLastResort: tooLong(2048) } },
    ],
    bytes: { field: "body.oneTimePrekeys.0", set: (v) => ({ oneTimePrekeys: [v] }) },
  },
  {
    method: "PUT",
    route: "/contacts/:userId",
    path: `/contacts/${other.state.userId}`,
    auth: true,
    valid: { nicknameCiphertext: "bmljaw", blocked: false },
    wrongType: { body: { blocked: "yes" }, field: "body.blocked" },
    oversized: [{ name: "a nickname past 1 KiB", body: { nicknameCiphertext: tooLong(1024) } }],
    bytes: { field: "body.nicknameCiphertext", set: (v) => ({ nicknameCiphertext: v }) },
  },
  {
    method: "PUT",
    route: "/provisioning/:slotId",
    path: `/provisioning/${slotId}`,
    auth: true,
    valid: { envelope: "ZW52ZWxvcGU" },
    wrongType: { body: { envelope: false }, field: "body.envelope" },
    oversized: [
      {
        name: "an envelope past 1 MiB",
        body: { envelope: tooLong(MAX_PROVISIONING_ENVELOPE_BYTES) },
      },
    ],
    bytes: { field: "body.envelope", set: (v) => ({ envelope: v }) },
  },
];

const send = (route: BodyRoute, options: { body?: unknown; rawBody?: string }) =>
  s.http(route.method, route.path, { ...options, token: route.auth ? fuzzy.token : undefined });

/** Not in the base64url alphabet, padded, a length no encoder makes, and trailing bits set. */
const BAD_BASE64 = [
  { name: "characters outside the alphabet", value: "!!!!", atValidation: true },
  { name: "padding", value: "AAA=", atValidation: true },
  { name: "standard base64 characters", value: "ab+/", atValidation: true },
  { name: "a length no encoder makes", value: "AAAAA", atValidation: false },
  { name: "a non-canonical last character", value: "AB", atValidation: false },
];

for (const route of BODY_ROUTES) {
  describe(`${route.method} ${route.route}`, () => {
    test("malformed JSON → 400 malformed_body", async () => {
      expectError(await send(route, { rawBody: '{"a": ' }), 400, "malformed_body");
    });

    test(`a wrong type → 400 invalid_request naming ${route.wrongType.field}`, async () => {
      const res = await send(route, { body: route.wrongType.body });
      expectError(res, 400, "invalid_request");
      expect(res.json?.details).toEqual({ field: route.wrongType.field });
    });

    test("a JSON value that is not an object → 400 invalid_request", async () => {
      const answers: Record<string, string> = {};
      for (const rawBody of [JSON.stringify([route.valid]), '"text"', "1", "true"]) {
        const res = await send(route, { rawBody });
        answers[rawBody.slice(0, 20)] = `${res.status} ${res.json?.code ?? ""}`.trim();
      }
      expect(Object.values(answers)).toEqual(
        Object.values(answers).map(() => "400 invalid_request"),
      );
    });

    for (const big of route.oversized) {
      test(`${big.name} → 400 invalid_request`, async () => {
        expectError(await send(route, { body: big.body }), 400, "invalid_request");
      });
    }

    const bytes = route.bytes;
    if (bytes) {
      for (const bad of BAD_BASE64) {
        test(`base64url with ${bad.name} → 400 invalid_request`, async () => {
          const res = await send(route, { body: bytes.set(bad.value) });
          expectError(res, 400, "invalid_request");
          // Validation and the strict decoder name the same JSON path under `body`.
          const field = (res.json?.details as { field?: string } | undefined)?.field;
          if (bad.atValidation) expect(field).toStartWith("body");
          else expect(field).toBe(bytes.field);
        });
      }
    }

    test("a body over 2 MiB → 413", async () => {
      const rawBody = JSON.stringify({ ...route.valid, padding: "x".repeat(TWO_MIB) });
      const res = await send(route, { rawBody });
      expect(res.status).toBe(413);
    });
  });
}

test("a body over 2 MiB is answered with the catalogue error body (413 payload_too_large)", async () => {
  const res = await s.http("PUT", "/account/profile", {
    token: fuzzy.token,
    rawBody: JSON.stringify({ profileCiphertext: "x".repeat(TWO_MIB) }),
  });
  expectError(res, 413, "payload_too_large");
});

test("a body that is not JSON (form-encoded, octet-stream) → 415 unsupported_media_type on every body route", async () => {
  const answers: Record<string, string> = {};
  for (const route of BODY_ROUTES) {
    for (const type of ["application/x-www-form-urlencoded", "application/octet-stream"]) {
      const res = await s.http(route.method, route.path, {
        token: route.auth ? fuzzy.token : undefined,
        rawBody: new URLSearchParams(route.valid as Record<string, string>).toString(),
        headers: { "content-type": type },
      });
      answers[`${route.method} ${route.route} (${type})`] = `${res.status} ${res.json?.code ?? ""}`;
    }
  }
  const accepted = Object.entries(answers).filter(([, a]) => a !== "415 unsupported_media_type");
  expect(Object.fromEntries(accepted)).toEqual({});
});

interface ParamCase {
  name: string;
  method: string;
  route: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  field: string;
}

const PARAM_CASES: ParamCase[] = [
  {
    name: "a device id that is not a UUID",
    method: "PATCH",
    route: "/devices/:deviceId",
    path: "/devices/not-a-uuid",
    body: {},
    field: "params.deviceId",
  },
  {
    name: "a device id in capitals",
    method: "DELETE",
    route: "/devices/:deviceId",
    path: `/devices/${fuzzy.state.deviceId.toUpperCase()}`,
    body: { deviceList: keepAllList },
    field: "params.deviceId",
  },
  {
    name: "a user id that is not a UUID",
    method: "GET",
    route: "/users/:userId/device-lists",
    path: "/users/12345/device-lists",
    field: "params.userId",
  },
  {
    name: "a negative since",
    method: "GET",
    route: "/users/:userId/device-lists",
    path: `/users/${other.state.userId}/device-lists?since=-1`,
    field: "query.since",
  },
  {
    name: "a since that is not a number",
    method: "GET",
    route: "/users/:userId/device-lists",
    path: `/users/${other.state.userId}/device-lists?since=abc`,
    field: "query.since",
  },
  {
    name: "a user id in capitals",
    method: "GET",
    route: "/users/:userId/keys",
    path: `/users/${other.state.userId.toUpperCase()}/keys`,
    field: "params.userId",
  },
  {
    name: "a deviceId query that is not a UUID",
    method: "GET",
    route: "/users/:userId/keys",
    path: `/users/${other.state.userId}/keys?deviceId=x`,
    field: "query.deviceId",
  },
  {
    name: "a username of 2 characters",
    method: "GET",
    route: "/users/by-username/:username",
    path: "/users/by-username/ab",
    field: "params.username",
  },
  {
    name: "a username of 33 characters",
    method: "GET",
    route: "/users/by-username/:username",
    path: `/users/by-username/${"a".repeat(33)}`,
    field: "params.username",
  },
  {
    name: "a username with a NUL",
    method: "GET",
    route: "/users/by-username/:username",
    path: "/users/by-username/abc%00def",
    field: "params.username",
  },
  {
    name: "a search of 33 characters",
    method: "GET",
    route: "/users/search",
    path: `/users/search?q=${"a".repeat(33)}`,
    field: "query.q",
  },
  {
    name: "an encoded path as the user id",
    method: "GET",
    route: "/users/:userId",
    path: "/users/..%2F..%2Fadmin",
    field: "params.userId",
  },
  {
    name: "a contact id that is not a UUID",
    method: "PUT",
    route: "/contacts/:userId",
    path: "/contacts/me",
    body: {},
    field: "params.userId",
  },
  {
    name: "a contact id that is not a UUID",
    method: "DELETE",
    route: "/contacts/:userId",
    path: "/contacts/me",
    field: "params.userId",
  },
  {
    name: "a slot id that is not a UUID",
    method: "PUT",
    route: "/provisioning/:slotId",
    path: "/provisioning/slot",
    body: { envelope: "AAAA" },
    field: "params.slotId",
  },
  {
    name: "a slot id that is not a UUID",
    method: "GET",
    route: "/provisioning/:slotId",
    path: "/provisioning/slot",
    headers: { "x-read-token": "t" },
    field: "params.slotId",
  },
  {
    name: "a wait that is not a number",
    method: "GET",
    route: "/provisioning/:slotId",
    path: `/provisioning/${slotId}?wait=soon`,
    headers: { "x-read-token": "t" },
    field: "query.wait",
  },
  {
    name: "a negative wait",
    method: "GET",
    route: "/provisioning/:slotId",
    path: `/provisioning/${slotId}?wait=-1`,
    headers: { "x-read-token": "t" },
    field: "query.wait",
  },
  {
    name: "a ticket of 5 characters",
    method: "GET",
    route: "/ws",
    path: "/ws?ticket=short",
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
    field: "query.ticket",
  },
];

describe("parameters and queries", () => {
  for (const c of PARAM_CASES) {
    test(`${c.method} ${c.route}: ${c.name} → 400 invalid_request naming ${c.field}`, async () => {
      const res = await s.http(c.method, c.path, {
        token: fuzzy.token,
        body: c.body,
        headers: c.headers,
      });
      expectError(res, 400, "invalid_request");
      expect(res.json?.details).toEqual({ field: c.field });
    });
  }
});

/** A small deterministic PRNG (xorshift32): a failing case replays from the seed. */
function prng(seed: number) {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}

type Rng = ReturnType<typeof prng>;
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ODD_STRINGS = [
  "",
  " ",
  "null",
  "💬",
  "\u0000",
  "a".repeat(300),
  "../../etc/passwd",
  "AAAA",
  "=",
  "%00",
];
const ODD_NUMBERS = [0, -1, 1.5, 2 ** 53, -(2 ** 31), 1e308, Number.MAX_SAFE_INTEGER];

function randomString(rng: Rng): string {
  if (rng.next() < 0.3) return rng.pick(ODD_STRINGS);
  const length = rng.int(rng.next() < 0.8 ? 64 : 4000);
  let out = "";
  for (let i = 0; i < length; i++) out += B64[rng.int(B64.length)];
  return out;
}

function randomJson(rng: Rng, depth = 0): unknown {
  const kinds = depth > 3 ? 4 : 6;
  switch (rng.int(kinds)) {
    case 0:
      return rng.pick([null, true, false]);
    case 1:
      return rng.pick(ODD_NUMBERS);
    case 2:
    case 3:
      return randomString(rng);
    case 4:
      return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth + 1));
    default: {
      const keys = [
        "grant",
        "code",
        "envelope",
        "deviceList",
        "keys",
        "device",
        "__proto__",
        "constructor",
        randomString(rng),
      ];
      return Object.fromEntries(
        Array.from({ length: rng.int(5) }, () => [rng.pick(keys), randomJson(rng, depth + 1)]),
      );
    }
  }
}

/** The valid body with one leaf changed: replaced, removed, or a string bent a little. */
function mutate(rng: Rng, value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || rng.next() < 0.1) return randomJson(rng);
    const copy = [...value];
    const i = rng.int(copy.length);
    copy[i] = mutate(rng, copy[i]);
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0 || rng.next() < 0.1) return randomJson(rng);
    const copy: Record<string, unknown> = { ...value };
    const [key, inner] = rng.pick(entries);
    if (rng.next() < 0.15) delete copy[key];
    else copy[key] = mutate(rng, inner);
    return copy;
  }
  if (typeof value === "string" && value.length > 0 && rng.next() < 0.7) {
    // Same alphabet and length, one character changed: it passes validation and reaches the
    // decoders and signature checks behind it.
    const i = rng.int(value.length);
    const swapped = value.slice(0, i) + rng.pick([...B64]) + value.slice(i + 1);
    return rng.pick([swapped, value.slice(0, rng.int(value.length)), `${value}AAAA`]);
  }
  return randomJson(rng);
}

const RAW_ODDITIES = [
  "",
  "null",
  "[]",
  '"text"',
  "1e999",
  "{}",
  `${"[".repeat(5000)}${"]".repeat(5000)}`,
  '{"__proto__": {"admin": true}}',
];
const FUZZ_SEED = 20_240_601;
const FUZZ_CASES = 40;

describe(`fuzz (seed ${FUZZ_SEED}): never a 500`, () => {
  for (const route of BODY_ROUTES) {
    test(`${route.method} ${route.route}: odd raw bodies, ${FUZZ_CASES} random and ${FUZZ_CASES} mutated bodies`, async () => {
      const rng = prng(FUZZ_SEED + route.route.length * 31 + route.method.length);
      const answers: { body: string; status: number; code: unknown }[] = [];
      const bodies = [
        ...RAW_ODDITIES,
        ...Array.from({ length: FUZZ_CASES }, () => JSON.stringify(randomJson(rng))),
        ...Array.from({ length: FUZZ_CASES }, () => JSON.stringify(mutate(rng, route.valid))),
      ];
      for (const rawBody of bodies) {
        const res = await send(route, { rawBody });
        answers.push({ body: rawBody.slice(0, 200), status: res.status, code: res.json?.code });
        if (res.status >= 400) expectErrorShape(res);
      }
      const serverErrors = answers.filter((a) => a.status >= 500);
      expect(serverErrors).toEqual([]);
    }, 20_000);
  }

  test("nothing above was logged as an unhandled error", () => {
    const errors = s.log.entries().filter((e) => e.level === "error");
    expect(errors).toEqual([]);
  });
});

// Bad input on every messaging route and WebSocket frame: malformed JSON, wrong types, JSON
// that is not an object, bad base64url, bad parameters, then a seeded fuzz of random and
// mutated bodies and frames. The rule under test: a 4xx (or an error frame) with a catalogue
// code, never a 500 and never `internal`.
import { afterAll, describe, expect, test } from "bun:test";
import { toBase64Url } from "../../protocol/api/base64.ts";
import type { ConversationId } from "../../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import { encodeMembershipEntry } from "../../protocol/identity/membership-entry.ts";
import { createMembershipLog } from "../../protocol/identity/membership-log.ts";
import { seededRng } from "../support/deterministic.ts";
import {
  expectError,
  expectStatus,
  type HttpResult,
  messagingFixture,
  settle,
  structuralKeyHeader,
  tokenOf,
} from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

// `fuzzy` sends everything; `other` is the peer of its direct conversation and in its group.
const fuzzy = await f.user();
const other = await f.user();
const direct = await f.startDirect(fuzzy, other);
const group = await f.group(fuzzy);
expectStatus(
  await group.change(fuzzy, { type: "add", target: other.state.userId, role: "member" }),
  200,
);

const message = await f.sealText(fuzzy, direct.conversationId, "valid");
const validSend = {
  ...message,
  keyHeaders: [{ deviceId: other.state.deviceId, header: structuralKeyHeader(f.ctx, other.state) }],
  expiresAt: Date.now() + 3_600_000,
};
const newGroupId = f.newId();
const { entry: createEntry } = await createMembershipLog(
  f.ctx,
  asAccountSecretKey(fuzzy.state.accountKeyPair.secretKey),
  { conversationId: newGroupId as ConversationId, actor: fuzzy.state.userId },
);
const validCreate = { id: newGroupId, entry: toBase64Url(encodeMembershipEntry(createEntry)) };
const validChange = {
  entry: await group.signed(fuzzy, {
    actor: fuzzy.state.userId,
    action: { type: "set-announcements-only", enabled: true },
  }),
};
const validEnvelopes = { envelopes: [{ deviceId: other.state.deviceId, envelope: "ZW52" }] };

interface BodyRoute {
  method: string;
  route: string;
  path: string;
  valid: Record<string, unknown>;
  wrongType: { body: unknown; field: string };
  /** Sets one base64url field of the valid body (`opaque`: any bytes are accepted). */
  bytes?: { field: string; set: (value: string) => unknown; opaque?: boolean };
}

const conversation = `/conversations/${direct.conversationId}`;
const BODY_ROUTES: BodyRoute[] = [
  {
    method: "POST",
    route: "/messages",
    path: "/messages",
    valid: validSend,
    wrongType: { body: { ...validSend, ciphertext: 5 }, field: "body.ciphertext" },
    bytes: { field: "body.ciphertext", set: (v) => ({ ...validSend, ciphertext: v }) },
  },
  {
    method: "POST",
    route: "/messages (key header)",
    path: "/messages",
    valid: validSend,
    wrongType: { body: { ...validSend, expiresAt: "soon" }, field: "body.expiresAt" },
    bytes: {
      field: "body.keyHeaders.0.header",
      set: (v) => ({ ...validSend, keyHeaders: [{ deviceId: other.state.deviceId, header: v }] }),
    },
  },
  {
    method: "POST",
    route: "/conversations",
    path: "/conversations",
    valid: validCreate,
    wrongType: { body: { ...validCreate, id: 7 }, field: "body.id" },
    bytes: { field: "body.entry", set: (v) => ({ ...validCreate, entry: v }) },
  },
  {
    method: "POST",
    route: "/conversations/:id/membership",
    path: `/conversations/${group.id}/membership`,
    valid: validChange,
    wrongType: { body: { entry: ["x"] }, field: "body.entry" },
    bytes: { field: "body.entry", set: (v) => ({ entry: v }) },
  },
  {
    method: "PUT",
    route: "/conversations/:id/delivered",
    path: `${conversation}/delivered`,
    valid: { seq: 1 },
    wrongType: { body: { seq: "1" }, field: "body.seq" },
  },
  {
    method: "PUT",
    route: "/conversations/:id/read",
    path: `${conversation}/read`,
    valid: { seq: 1 },
    wrongType: { body: { seq: 1.5 }, field: "body.seq" },
  },
  {
    method: "POST",
    route: "/to-device",
    path: "/to-device",
    valid: validEnvelopes,
    wrongType: {
      body: { envelopes: [{ deviceId: other.state.deviceId, envelope: 5 }] },
      field: "body.envelopes.0.envelope",
    },
    bytes: {
      field: "body.envelopes.0.envelope",
      set: (v) => ({ envelopes: [{ deviceId: other.state.deviceId, envelope: v }] }),
      opaque: true,
    },
  },
];

const send = (route: BodyRoute, options: { body?: unknown; rawBody?: string }) =>
  f.http(route.method, `/api/v1${route.path}`, { ...options, token: tokenOf(fuzzy) });

/** What came back, in a line: a failing table shows every answer at once. */
const answer = (res: HttpResult) => `${res.status} ${res.json?.code ?? ""}`.trim();

const BAD_BASE64 = [
  { name: "characters outside the alphabet", value: "!!!!" },
  { name: "padding", value: "AAA=" },
  { name: "a length no encoder makes", value: "AAAAA" },
];
/** Valid base64url of three bytes that are no sender-key message, key header or entry. */
const NOT_DECODABLE = { name: "bytes that do not decode", value: "AQID" };

for (const route of BODY_ROUTES) {
  describe(`${route.method} ${route.route}`, () => {
    test("malformed JSON → 400 malformed_body", async () => {
      expectError(await send(route, { rawBody: '{"a": ' }), 400, "malformed_body");
    });

    test(`a wrong type → 400 invalid_request naming ${route.wrongType.field}`, async () => {
      expectError(
        await send(route, { body: route.wrongType.body }),
        400,
        "invalid_request",
        route.wrongType.field,
      );
    });

    test("a JSON value that is not an object → 400 invalid_request", async () => {
      const answers: Record<string, string> = {};
      for (const rawBody of [JSON.stringify([route.valid]), '"text"', "1", "true", "null"])
        answers[rawBody.slice(0, 20)] = answer(await send(route, { rawBody }));
      expect(Object.values(answers)).toEqual(
        Object.values(answers).map(() => "400 invalid_request"),
      );
    });

    test("a form-encoded body → 415 unsupported_media_type", async () => {
      const res = await f.http(route.method, `/api/v1${route.path}`, {
        token: tokenOf(fuzzy),
        rawBody: "seq=1",
        headers: { "content-type": "application/x-www-form-urlencoded" },
      });
      expectError(res, 415, "unsupported_media_type");
    });

    const bytes = route.bytes;
    if (bytes) {
      test("bad base64url, or bytes that do not decode → 400 with a code", async () => {
        const answers: Record<string, string> = {};
        const cases = bytes.opaque ? BAD_BASE64 : [...BAD_BASE64, NOT_DECODABLE];
        for (const bad of cases)
          answers[bad.name] = answer(await send(route, { body: bytes.set(bad.value) }));
        for (const [name, a] of Object.entries(answers))
          expect(`${name}: ${a}`).toMatch(/: 400 (invalid_request|malformed_message)$/);
      });
    }
  });
}

const PARAM_CASES: { name: string; method: string; path: string; body?: unknown; field: string }[] =
  [
    {
      name: "a message id that is not a UUID",
      method: "DELETE",
      path: "/messages/not-a-uuid",
      field: "params.id",
    },
    {
      name: "a message id in capitals",
      method: "PUT",
      path: `/messages/${message.id.toUpperCase()}/read`,
      field: "params.id",
    },
    {
      name: "a conversation id that is not a UUID",
      method: "GET",
      path: "/conversations/not-a-uuid",
      field: "params.conversationId",
    },
    {
      name: "a conversation id that is not a UUID",
      method: "PUT",
      path: "/conversations/x/read",
      body: { seq: 1 },
      field: "params.conversationId",
    },
    {
      name: "a conversation id that is not a UUID",
      method: "POST",
      path: "/conversations/x/membership",
      body: validChange,
      field: "params.conversationId",
    },
    {
      name: "an after that is not a number",
      method: "GET",
      path: `/conversations/${group.id}/membership?after=abc`,
      field: "query.after",
    },
    {
      name: "a negative before",
      method: "GET",
      path: `${conversation}/messages?before=-1`,
      field: "query.before",
    },
    {
      name: "a limit over 200",
      method: "GET",
      path: `${conversation}/messages?limit=201`,
      field: "query.limit",
    },
    {
      name: "a limit that is not a number",
      method: "GET",
      path: `${conversation}/messages?limit=ten`,
      field: "query.limit",
    },
    {
      name: "an upTo that is not a number",
      method: "DELETE",
      path: "/to-device?upTo=all",
      field: "query.upTo",
    },
    { name: "a sync limit over 500", method: "GET", path: "/sync?limit=501", field: "query.limit" },
    {
      name: "a sync cursor of 81 characters",
      method: "GET",
      path: `/sync?cursor=${"1".repeat(81)}`,
      field: "query.cursor",
    },
  ];

describe("parameters and queries", () => {
  for (const c of PARAM_CASES) {
    test(`${c.method} ${c.path.split("?")[0]}: ${c.name} → 400 invalid_request naming ${c.field}`, async () => {
      expectError(await f.call(fuzzy, c.method, c.path, c.body), 400, "invalid_request", c.field);
    });
  }

  test("unknown ids → 404 with a code: conversation_not_found, message_not_found", async () => {
    const unknown = f.newId();
    expectError(
      await f.call(fuzzy, "GET", `/conversations/${unknown}`),
      404,
      "conversation_not_found",
    );
    expectError(
      await f.call(fuzzy, "GET", `/conversations/${unknown}/messages`),
      404,
      "conversation_not_found",
    );
    expectError(
      await f.call(fuzzy, "PUT", `/conversations/${unknown}/read`, { seq: 1 }),
      404,
      "conversation_not_found",
    );
    expectError(await f.call(fuzzy, "DELETE", `/messages/${unknown}`), 404, "message_not_found");
    expectError(await f.call(fuzzy, "PUT", `/messages/${unknown}/read`), 404, "message_not_found");
  });

  test("every messaging route without a token → 401 unauthorized", async () => {
    const routes = [
      ["POST", "/messages"],
      ["GET", "/conversations"],
      ["POST", "/conversations"],
      ["GET", conversation],
      ["GET", `${conversation}/messages`],
      ["PUT", `${conversation}/read`],
      ["PUT", `${conversation}/delivered`],
      ["GET", `${conversation}/membership`],
      ["POST", `${conversation}/membership`],
      ["PUT", `/messages/${message.id}/read`],
      ["DELETE", `/messages/${message.id}`],
      ["POST", "/to-device"],
      ["DELETE", "/to-device?upTo=1"],
      ["GET", "/sync"],
    ] as const;
    // Each with a body its route accepts: validation runs before the token is looked at.
    const bodies: Record<string, unknown> = {
      "POST /messages": validSend,
      "POST /conversations": validCreate,
      [`POST ${conversation}/membership`]: validChange,
      "POST /to-device": validEnvelopes,
    };
    const answers: Record<string, string> = {};
    for (const [method, path] of routes) {
      const key = `${method} ${path}`;
      const body =
        bodies[key] ?? (method === "PUT" && !path.startsWith("/messages") ? { seq: 1 } : undefined);
      answers[key] = answer(await f.http(method, `/api/v1${path}`, { body }));
    }
    const unexpected = Object.entries(answers).filter(([, a]) => a !== "401 unauthorized");
    expect(Object.fromEntries(unexpected)).toEqual({});
  });
});

/** A small deterministic chooser over the seeded byte stream: a failing case replays. */
function chooser(seed: string) {
  const rng = seededRng(seed);
  const next = () => new DataView(rng(4).buffer).getUint32(0) / 0x1_0000_0000;
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  return { next, int, pick };
}
type Chooser = ReturnType<typeof chooser>;

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const ODD_VALUES = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53,
  1e308,
  -(2 ** 31),
  "",
  " ",
  "💬",
  "\u0000",
  "a".repeat(300),
  "AAAA",
  "=",
  crypto.randomUUID(),
  [],
  {},
];

function randomJson(c: Chooser, depth = 0): unknown {
  switch (c.int(depth > 2 ? 3 : 5)) {
    case 0:
      return c.pick(ODD_VALUES);
    case 1:
      return Array.from({ length: c.int(60) }, () => B64[c.int(64)]).join("");
    case 2:
      return c.pick([f.newId(), other.state.deviceId, direct.conversationId, group.id]);
    case 3:
      return Array.from({ length: c.int(4) }, () => randomJson(c, depth + 1));
    default: {
      const keys = [
        "type",
        "id",
        "conversationId",
        "ciphertext",
        "seq",
        "entry",
        "envelopes",
        "keyHeaders",
        "__proto__",
      ];
      return Object.fromEntries(
        Array.from({ length: c.int(5) }, () => [c.pick(keys), randomJson(c, depth + 1)]),
      );
    }
  }
}

/** The valid body with one leaf changed: replaced, removed, or a string bent a little. */
function mutate(c: Chooser, value: unknown): unknown {
  if (Array.isArray(value)) {
    if (value.length === 0 || c.next() < 0.1) return randomJson(c);
    const copy = [...value];
    const i = c.int(copy.length);
    copy[i] = mutate(c, copy[i]);
    return copy;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0 || c.next() < 0.1) return randomJson(c);
    const copy: Record<string, unknown> = { ...value };
    const [key, inner] = c.pick(entries);
    if (c.next() < 0.15) delete copy[key];
    else copy[key] = mutate(c, inner);
    return copy;
  }
  if (typeof value === "string" && value.length > 0 && c.next() < 0.7) {
    // Same alphabet, one character changed or cut short: it passes validation and reaches
    // the decoders and the signature and membership checks behind it.
    const i = c.int(value.length);
    return c.pick([
      value.slice(0, i) + B64[c.int(64)] + value.slice(i + 1),
      value.slice(0, i),
      `${value}AAAA`,
    ]);
  }
  return randomJson(c);
}

const FUZZ_CASES = 40;

describe("fuzz: never a 500, never internal", () => {
  for (const route of BODY_ROUTES) {
    test(`${route.method} ${route.route}: ${FUZZ_CASES} random and ${FUZZ_CASES} mutated bodies`, async () => {
      const c = chooser(`messaging ${route.method} ${route.route}`);
      const bodies = [
        ...Array.from({ length: FUZZ_CASES }, () => JSON.stringify(randomJson(c))),
        ...Array.from({ length: FUZZ_CASES }, () => JSON.stringify(mutate(c, route.valid))),
      ];
      const bad: { body: string; answer: string }[] = [];
      for (const rawBody of bodies) {
        const res = await send(route, { rawBody });
        const ok = res.status < 400 || (res.status < 500 && typeof res.json?.code === "string");
        if (!ok)
          bad.push({
            body: rawBody.slice(0, 300),
            answer: `${answer(res)} ${res.text.slice(0, 200)}`,
          });
      }
      expect(bad).toEqual([]);
    }, 30_000);
  }

  test(`WebSocket: ${FUZZ_CASES * 3} random and mutated frames are each answered with a catalogue code, the socket stays open`, async () => {
    const c = chooser("messaging websocket frames");
    const socket = await f.socket(fuzzy);
    const validFrames = [
      { type: "send", ...validSend },
      { type: "delivered", conversationId: direct.conversationId, seq: 1 },
      { type: "read", conversationId: direct.conversationId, seq: 1 },
      { type: "typing", conversationId: group.id, typing: true },
      { type: "to_device_ack", upTo: 1 },
    ];
    for (let i = 0; i < FUZZ_CASES * 3; i++) {
      const raw = i % 3 === 0 ? randomJson(c) : mutate(c, c.pick(validFrames));
      socket.ws.send(JSON.stringify(raw));
    }
    await settle(socket);
    const errors = socket.frames.filter((x) => x.type === "error");
    expect(errors.filter((e) => typeof e.code !== "string" || e.code === "internal")).toEqual([]);
    expect(socket.closeInfo).toBeUndefined();
  }, 30_000);

  test("nothing above was logged as an unhandled error", () => {
    const errors = f.server.log.entries().filter((e) => e.level === "error");
    expect(errors).toEqual([]);
  });
});

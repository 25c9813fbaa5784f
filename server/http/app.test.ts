import { afterAll, describe, expect, test } from "bun:test";
import { Elysia, t } from "elysia";
import { errorCodeOf, fakeWebDir, testApp } from "../../tests/support/app.ts";
import { withDeadline } from "./deadline.ts";
import { CONTENT_SECURITY_POLICY } from "./security-headers.ts";

const web = fakeWebDir();
afterAll(() => web.remove());

// Routes that exist only in this test, mounted under /api/v1 like every later API route.
const TIMEOUT_MS = 150;
const testRoutes = new Elysia()
  .post("/test/echo", ({ body }) => body, {
    body: t.Object({ name: t.String({ minLength: 1 }), count: t.Integer() }),
  })
  .get("/test/boom", () => {
    throw new Error("secret internal detail");
  })
  .get("/test/slow", () =>
    withDeadline(TIMEOUT_MS, () => Bun.sleep(2_000).then(() => ({ done: true }))),
  );

const { request, entries } = testApp({
  webDir: web.path,
  api: [testRoutes],
  env: { PARLEY_HTTP_MAX_BODY_BYTES: "2048" },
});

interface Scenario {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  code?: string;
  contentType?: RegExp;
  headersMatch?: Record<string, RegExp>;
  bodyMatch?: RegExp;
}

// PocketBase-style scenario table: one row per behaviour a client relies on.
const SCENARIOS: Scenario[] = [
  { name: "health", path: "/health", status: 200, bodyMatch: /"status":"ok".*"apiVersion":1/ },
  {
    name: "unknown API path is a JSON 404 with a code",
    path: "/api/v1/nope",
    status: 404,
    code: "not_found",
  },
  { name: "the bare /api path too", path: "/api", status: 404, code: "not_found" },
  { name: "an unknown API version too", path: "/api/v9/health", status: 404, code: "not_found" },
  {
    name: "web shell at /",
    path: "/",
    status: 200,
    contentType: /^text\/html/,
    headersMatch: { "cache-control": /^no-cache$/, etag: /^".+"$/ },
    bodyMatch: /<div id=root>/,
  },
  {
    name: "SPA fallback for a client route",
    path: "/chats/42",
    status: 200,
    contentType: /^text\/html/,
    bodyMatch: /<div id=root>/,
  },
  {
    name: "hashed bundle, cached for a year",
    path: "/assets/index-abc123.js",
    status: 200,
    contentType: /javascript/,
    headersMatch: { "cache-control": /max-age=31536000, immutable/ },
  },
  {
    name: "other static file, short cache",
    path: "/favicon.svg",
    status: 200,
    contentType: /^image\/svg\+xml/,
    headersMatch: { "cache-control": /max-age=3600/ },
  },
  {
    name: "a missing script is a plain 404, never HTML",
    path: "/assets/gone-123.js",
    status: 404,
    contentType: /^text\/plain/,
  },
  {
    name: "path traversal only ever reaches the shell",
    path: "/..%2f..%2fetc%2fpasswd",
    status: 200,
    bodyMatch: /^<!doctype html><title>Parley/,
  },
  {
    name: "validation error names the field",
    method: "POST",
    path: "/api/v1/test/echo",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "", count: 1 }),
    status: 400,
    code: "invalid_request",
    bodyMatch: /"field":"body\.name"/,
  },
  {
    name: "wrong type is a validation error",
    method: "POST",
    path: "/api/v1/test/echo",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "x", count: "many" }),
    status: 400,
    code: "invalid_request",
  },
  {
    name: "malformed JSON",
    method: "POST",
    path: "/api/v1/test/echo",
    headers: { "content-type": "application/json" },
    body: "{not json",
    status: 400,
    code: "malformed_body",
  },
  {
    name: "valid body is accepted",
    method: "POST",
    path: "/api/v1/test/echo",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ name: "x", count: 2 }),
    status: 200,
    bodyMatch: /^\{"name":"x","count":2\}$/,
  },
  {
    name: "body over the limit",
    method: "POST",
    path: "/api/v1/test/echo",
    headers: { "content-type": "application/json", "content-length": "4200" },
    body: JSON.stringify({ name: "x".repeat(4096), count: 1 }),
    status: 413,
    code: "payload_too_large",
  },
  {
    name: "a crash is a 500 with no detail",
    path: "/api/v1/test/boom",
    status: 500,
    code: "internal",
    bodyMatch: /^(?!.*secret internal detail)(?!.*at ).*$/s,
  },
  {
    name: "a slow handler answers 503 timeout",
    path: "/api/v1/test/slow",
    status: 503,
    code: "timeout",
  },
  {
    name: "openapi document",
    path: "/openapi/json",
    status: 200,
    contentType: /json/,
    bodyMatch: /"\/health"/,
  },
  {
    name: "metrics refuse a request not from loopback",
    path: "/metrics",
    status: 403,
    code: "metrics_disabled_remotely",
  },
];

describe("HTTP scenarios", () => {
  for (const s of SCENARIOS) {
    test(s.name, async () => {
      const res = await request(s.path, {
        method: s.method ?? "GET",
        headers: s.headers,
        body: s.body,
      });
      const body = await res.text();
      expect(res.status).toBe(s.status);
      if (s.code) {
        const json = JSON.parse(body);
        expect(json.code).toBe(s.code);
        expect(typeof json.message).toBe("string");
        expect(json.requestId).toBe(res.headers.get("x-request-id") ?? "missing");
      }
      if (s.contentType) expect(res.headers.get("content-type") ?? "").toMatch(s.contentType);
      for (const [h, re] of Object.entries(s.headersMatch ?? {}))
        expect(res.headers.get(h) ?? "").toMatch(re);
      if (s.bodyMatch) expect(body).toMatch(s.bodyMatch);
      // Every response carries the security headers and a request id.
      expect(res.headers.get("content-security-policy")).toBe(CONTENT_SECURITY_POLICY);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("x-request-id")).toBeTruthy();
    });
  }
});

describe("HTTP behaviour", () => {
  test("an unchanged file answers 304 to If-None-Match", async () => {
    const first = await request("/");
    const again = await request("/", { headers: { "if-none-match": first.headers.get("etag")! } });
    expect(again.status).toBe(304);
  });

  test("a well-formed incoming request id is kept, a bad one replaced", async () => {
    expect(
      (await request("/health", { headers: { "x-request-id": "proxy-123" } })).headers.get(
        "x-request-id",
      ),
    ).toBe("proxy-123");
    const replaced = (
      await request("/health", { headers: { "x-request-id": "bad id; drop" } })
    ).headers.get("x-request-id");
    expect(replaced).toMatch(/^[0-9a-f-]{36}$/);
  });

  test("the request log has method, route, status and duration, never the query or body", async () => {
    const { request, entries, text: logText } = testApp({ api: [testRoutes] });
    await request("/api/v1/nope?ticket=t0ps3cret", { method: "GET" });
    await request("/api/v1/test/echo", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer b34rer" },
      body: JSON.stringify({ name: "c4n4ry-body", count: 1 }),
    });
    await Bun.sleep(20); // the log line is written after the response is sent
    const lines = entries().filter((e) => e.msg === "request");
    const echo = lines.find((e) => e.route === "/api/v1/test/echo");
    expect(echo).toMatchObject({ method: "POST", status: 200, level: "info" });
    expect(typeof echo?.ms).toBe("number");
    const all = logText();
    for (const secret of ["t0ps3cret", "c4n4ry-body", "b34rer"]) expect(all).not.toContain(secret);
  });

  test("an unexpected error is logged (error level) for the operator, without its stack reaching the client", () => {
    const errors = entries().filter((e) => e.level === "error");
    expect(errors.some((e) => JSON.stringify(e).includes("secret internal detail"))).toBe(true);
  });
});

describe("readiness", () => {
  test("ready when every dependency answers", async () => {
    const { request } = testApp({ dependencies: [{ name: "db", ping: async () => {} }] });
    const res = await request("/ready");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ready" });
  });

  test("503 not_ready when the database does not answer", async () => {
    const { request } = testApp({
      dependencies: [{ name: "db", ping: async () => Promise.reject(new Error("down")) }],
    });
    const res = await request("/ready");
    expect(res.status).toBe(503);
    expect(await errorCodeOf(res)).toBe("not_ready");
  });

  test("503 shutting_down while draining, and responses ask clients to reconnect", async () => {
    const { request } = testApp({ draining: () => true });
    const res = await request("/ready");
    expect(res.status).toBe(503);
    expect(await errorCodeOf(res)).toBe("shutting_down");
    expect(res.headers.get("connection")).toBe("close");
  });
});

test("without a built web client, the API works and / says what to do", async () => {
  const { request } = testApp({ webDir: "/nonexistent" });
  expect((await request("/health")).status).toBe(200);
  const res = await request("/");
  expect(res.status).toBe(503);
  expect(await errorCodeOf(res)).toBe("web_client_missing");
});

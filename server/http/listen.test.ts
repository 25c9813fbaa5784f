// The server on a real port: what depends on sockets (peer addresses, TLS, draining).
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Elysia } from "elysia";
import { errorCodeOf } from "../../tests/support/app.ts";
import { tempDir } from "../../tests/support/databases.ts";
import { startTestServer, type TestServer } from "../../tests/support/server.ts";

let running: TestServer[] = [];
afterEach(async () => {
  for (const s of running) await s.cleanup();
  running = [];
});
async function start(options: Parameters<typeof startTestServer>[0] = {}) {
  const s = await startTestServer(options);
  running.push(s);
  return s;
}

describe("metrics access", () => {
  test("served to a direct loopback request without a token", async () => {
    const { url } = await start();
    await fetch(`${url}/health`);
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toMatch(
      /parley_http_requests_total\{method="GET",route="\/health",status="200"\} 1/,
    );
    expect(text).toContain("process_resident_memory_bytes");
    expect(text).toContain("parley_websocket_connections 0");
    expect(text).toMatch(/parley_build_info\{version="0\.0\.0-test"\} 1/);
    expect(text).toMatch(/parley_db_size_bytes \d+/);
  });

  test("a proxied request (X-Forwarded-For) from loopback needs the token", async () => {
    const { url } = await start({ env: { PARLEY_METRICS_TOKEN: "m3trics-t0ken" } });
    const proxied = await fetch(`${url}/metrics`, {
      headers: { "x-forwarded-for": "198.51.100.9" },
    });
    expect(proxied.status).toBe(401);
    expect(await errorCodeOf(proxied)).toBe("metrics_token_required");
    const wrong = await fetch(`${url}/metrics`, {
      headers: { "x-forwarded-for": "198.51.100.9", authorization: "Bearer nope" },
    });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${url}/metrics`, {
      headers: { "x-forwarded-for": "198.51.100.9", authorization: "Bearer m3trics-t0ken" },
    });
    expect(right.status).toBe(200);
  });

  test("without a configured token, proxied requests are refused outright", async () => {
    const { url } = await start();
    const res = await fetch(`${url}/metrics`, { headers: { forwarded: "for=198.51.100.9" } });
    expect(res.status).toBe(403);
    expect(await errorCodeOf(res)).toBe("metrics_disabled_remotely");
  });
});

describe("client addresses", () => {
  const ipOf = (s: TestServer, id: string) =>
    s.log.entries().find((e) => e.msg === "request" && e.id === id)?.ip;

  test("X-Forwarded-For is believed only from a trusted proxy", async () => {
    const trusting = await start({ env: { PARLEY_TRUSTED_PROXIES: "127.0.0.1/32" } });
    const plain = await start();
    const headers = { "x-forwarded-for": "203.0.113.7, 127.0.0.1", "x-request-id": "xff-1" };
    await fetch(`${trusting.url}/health`, { headers });
    await fetch(`${plain.url}/health`, { headers });
    await Bun.sleep(20);
    expect(ipOf(trusting, "xff-1")).toBe("203.0.113.7");
    expect(ipOf(plain, "xff-1")).toBe("127.0.0.1");
  });
});

describe("request bodies", () => {
  test("the body limit holds whatever the framing, with a catalogue error; only JSON is read", async () => {
    const api = new Elysia().post("/test/echo", ({ body }) => ({
      size: JSON.stringify(body).length,
    }));
    const { url, log } = await start({ env: { PARLEY_HTTP_MAX_BODY_BYTES: "4096" }, api: [api] });
    const json = { "content-type": "application/json" };
    const chunked = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"pad":"'));
        for (let i = 0; i < 16; i++) c.enqueue(new TextEncoder().encode("x".repeat(1024)));
        c.enqueue(new TextEncoder().encode('"}'));
        c.close();
      },
    });
    // No Content-Length to check up front: the parser stops reading at the limit.
    const streamed = await fetch(`${url}/api/v1/test/echo`, {
      method: "POST",
      headers: json,
      body: chunked,
    });
    expect(streamed.status).toBe(413);
    expect(((await streamed.json()) as { code: string }).code).toBe("payload_too_large");
    // A declared length over the limit is refused before the body is read.
    const declared = await fetch(`${url}/api/v1/test/echo`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ pad: "x".repeat(8192) }),
    });
    expect(declared.status).toBe(413);
    expect(((await declared.json()) as { code: string }).code).toBe("payload_too_large");
    await Bun.sleep(20);
    expect(log.entries().filter((e) => e.level === "error")).toEqual([]);

    const small = await fetch(`${url}/api/v1/test/echo`, {
      method: "POST",
      headers: json,
      body: JSON.stringify({ pad: "x".repeat(1000) }),
    });
    expect(await small.json()).toEqual({ size: 1010 });
    const binary = await fetch(`${url}/api/v1/test/echo`, {
      method: "POST",
      body: new Uint8Array(1000),
    });
    expect(binary.status).toBe(415);
    expect(((await binary.json()) as { code: string }).code).toBe("unsupported_media_type");
  });
});

describe("TLS", () => {
  test("serves HTTPS from cert and key files, with HSTS", async () => {
    const dir = tempDir();
    try {
      const cert = join(dir.path, "cert.pem");
      const key = join(dir.path, "key.pem");
      const made = Bun.spawnSync([
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=localhost",
      ]);
      expect(made.exitCode).toBe(0);
      const { url } = await start({ env: { PARLEY_TLS_CERT: cert, PARLEY_TLS_KEY: key } });
      expect(url).toStartWith("https://");
      const res = await fetch(`${url}/health`, { tls: { rejectUnauthorized: false } });
      expect(res.status).toBe(200);
      expect(res.headers.get("strict-transport-security")).toBe("max-age=31536000");
    } finally {
      dir.remove();
    }
  });
});

describe("graceful shutdown", () => {
  test("an in-flight request finishes, then new connections are refused and the DB is closed", async () => {
    const api = new Elysia().get("/test/slow", async () => {
      await Bun.sleep(300);
      return { finished: true };
    });
    const s = await start({ api: [api] });
    const inFlight = fetch(`${s.url}/api/v1/test/slow`);
    await Bun.sleep(50);
    const stopped = s.server.shutdown("SIGTERM");
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ finished: true });
    await stopped;
    expect(fetch(`${s.url}/health`)).rejects.toThrow();
    expect(s.server.database.ping()).rejects.toThrow();
    const msgs = s.log.entries().map((e) => e.msg);
    expect(msgs).toContain("shutting down");
    // The finished request's own log line may land after "stopped" (it is written once the
    // response has gone); nothing else may.
    expect(msgs.filter((m) => m !== "request").at(-1)).toBe("stopped");
  });

  test("after the grace period, open connections are closed", async () => {
    const api = new Elysia().get("/test/stuck", () => Bun.sleep(10_000).then(() => "late"));
    const s = await start({ api: [api], env: { PARLEY_HTTP_SHUTDOWN_GRACE_MS: "200" } });
    const stuck = fetch(`${s.url}/api/v1/test/stuck`).then(
      (r) => r.status,
      () => "closed",
    );
    await Bun.sleep(50);
    const began = performance.now();
    await s.server.shutdown("SIGTERM");
    expect(performance.now() - began).toBeLessThan(2_000);
    expect(await stuck).toBe("closed");
    expect(
      s.log.entries().some((e) => e.msg === "grace period over; closing open connections"),
    ).toBe(true);
  });
});

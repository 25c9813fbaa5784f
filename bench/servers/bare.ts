// The ceiling for bench/http-health.ts: Bun.serve with nothing but the same /health JSON.
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  fetch: () => Response.json({ status: "ok", version: "0.0.0", apiVersion: 1 }),
});
console.log(`http://127.0.0.1:${server.port}`);
process.on("SIGTERM", () => process.exit(0));

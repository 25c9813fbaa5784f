// The full Parley server for bench/http-health.ts, on a throw-away data directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareDataDir } from "../../server/config/data-dir.ts";
import { loadConfig } from "../../server/config/load.ts";
import { createLogger } from "../../server/lib/log.ts";
import { startServer } from "../../server/main.ts";

const dir = mkdtempSync(join(tmpdir(), "parley-bench-"));
const { config } = loadConfig({
  env: {
    PARLEY_HOST: "127.0.0.1",
    PARLEY_PORT: "0",
    PARLEY_DATA_DIR: dir,
    PARLEY_LOG_LEVEL: process.env.PARLEY_LOG_LEVEL ?? "info",
  },
});
const server = await startServer({
  config,
  dataDir: prepareDataDir(config.data_dir),
  log: createLogger({ level: config.log.level, format: "json" }),
  version: "0.0.0",
});
console.log(server.url.toString().replace(/\/$/, ""));
process.on("SIGTERM", async () => {
  await server.shutdown("bench done");
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});

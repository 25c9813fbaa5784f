import { join } from "node:path";
import type { AnyElysia } from "elysia";
import { prepareDataDir } from "../../server/config/data-dir.ts";
import { loadConfig } from "../../server/config/load.ts";
import type { PushNotifier } from "../../server/domain/ports/push.ts";
import { type RunningServer, startServer } from "../../server/main.ts";
import { captureLog } from "./app.ts";
import { tempDir } from "./databases.ts";

export interface TestServer {
  server: RunningServer;
  url: string;
  dataDir: string;
  log: ReturnType<typeof captureLog>;
  /** Shuts the server down (if still running) and removes its data directory. */
  cleanup(): Promise<void>;
}

/**
 * A real server on a free loopback port, with its own data directory (or another node's,
 * see `sharedDataDir`) and a captured log.
 */
export async function startTestServer(
  options: {
    env?: Record<string, string>;
    webDir?: string;
    api?: AnyElysia[];
    now?: () => number;
    wsPingIntervalMs?: number;
    /**
     * Another node's data directory, to run a second node on the same database (SQLite WAL
     * takes several connections); that node keeps it and removes it in its own cleanup.
     */
    sharedDataDir?: string;
    /** Records the content-free pushes to offline members (ServerOptions.testPushNotifier). */
    testPushNotifier?: PushNotifier;
  } = {},
): Promise<TestServer> {
  const dir = options.sharedDataDir
    ? { path: options.sharedDataDir, remove: () => {} }
    : tempDir("parley-server-");
  const env = {
    PARLEY_HOST: "127.0.0.1",
    PARLEY_PORT: "0",
    PARLEY_DATA_DIR: dir.path,
    // Its own admin socket: at start a node removes whatever sits at its path (node A's).
    ...(options.sharedDataDir && {
      PARLEY_ADMIN_SOCKET: join(dir.path, `admin-${crypto.randomUUID().slice(0, 8)}.sock`),
    }),
    ...options.env,
  };
  const { config } = loadConfig({ env });
  const log = captureLog();
  const server = await startServer({
    config,
    dataDir: prepareDataDir(config.data_dir),
    log: log.log,
    version: "0.0.0-test",
    webDir: options.webDir ?? "/nonexistent",
    api: options.api,
    now: options.now,
    wsPingIntervalMs: options.wsPingIntervalMs,
    testPushNotifier: options.testPushNotifier,
  });
  return {
    server,
    url: server.url.toString().replace(/\/$/, ""),
    dataDir: dir.path,
    log,
    async cleanup() {
      await server.shutdown("test done");
      dir.remove();
    },
  };
}

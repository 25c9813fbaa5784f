import type { AnyElysia } from "elysia";
import type { Config } from "./config/schema.ts";
import { readinessService } from "./domain/readiness.ts";
import { createApp } from "./http/app.ts";
import { assetDir } from "./lib/assets.ts";
import type { Logger } from "./lib/log.ts";
import { createMetrics } from "./lib/metrics.ts";
import type { Database } from "./store/database.ts";
import { migrate, readMigrations } from "./store/migrate.ts";
import { openDatabase } from "./store/open.ts";

export interface ServerOptions {
  config: Config;
  /** Absolute, already checked to be writable (config/data-dir.ts). */
  dataDir: string;
  log: Logger;
  version: string;
  /** Overrides for tests: another web client directory, extra API routes. */
  webDir?: string;
  api?: AnyElysia[];
}

export interface RunningServer {
  url: URL;
  database: Database;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes the DB. */
  shutdown(reason: string): Promise<void>;
}

/** Opens and migrates the database, then serves HTTP until shutdown. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, log, version } = options;
  const database = await openDatabase(config, options.dataDir);
  let draining = false;
  try {
    const applied = await migrate(database, readMigrations(assetDir("migrations")));
    if (applied.length > 0) log.info("database migrated", { applied, database: database.location });
  } catch (err) {
    await database.close();
    throw err;
  }

  const metrics = createMetrics({
    version,
    dbWriteQueueDepth: () => database.writeQueueDepth,
    dbSizeBytes: () => database.sizeBytes(),
  });
  const readiness = readinessService(
    [{ name: "database", ping: () => database.ping() }],
    () => draining,
  );
  const app = createApp({
    config,
    log,
    metrics,
    readiness,
    version,
    webDir: options.webDir ?? assetDir("web"),
    isDraining: () => draining,
    api: options.api,
  });

  const tls = config.tls.cert
    ? { cert: Bun.file(config.tls.cert), key: Bun.file(config.tls.key) }
    : undefined;
  // Elysia turns on SO_REUSEPORT by default; a second server on the same port must fail.
  app.listen({ hostname: config.host, port: config.port, tls, reusePort: false });
  const server = app.server!;
  const scheme = tls ? "https" : "http";
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  const url = new URL(
    `${scheme}://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${server.port}`,
  );
  log.info("listening", {
    url: url.toString(),
    host: config.host,
    port: server.port,
    version,
    database: database.driver,
  });

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      draining = true;
      log.info("shutting down", { reason, graceMs: config.http.shutdown_grace_ms });
      const drained = server.stop(false);
      const grace = Bun.sleep(config.http.shutdown_grace_ms).then(() => "timeout" as const);
      if ((await Promise.race([drained.then(() => "drained" as const), grace])) === "timeout") {
        log.warn("grace period over; closing open connections");
        await server.stop(true);
      }
      await database.close();
      log.info("stopped");
    })();
    return stopping;
  };
  return { url, database, shutdown };
}

import { rmSync } from "node:fs";
import { join } from "node:path";
import type { AnyElysia } from "elysia";
import { systemRng } from "../protocol/crypto/bytes.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { defaultPrimitives } from "../protocol/crypto/native.ts";
import { createEventBus } from "./bus/index.ts";
import type { Config } from "./config/schema.ts";
import type { PushNotifier } from "./domain/ports/push.ts";
import { readinessService } from "./domain/readiness.ts";
import { adminApp } from "./http/admin-app.ts";
import { createApp } from "./http/app.ts";
import { enforceLimit, MINUTE } from "./http/guards.ts";
import { accountRoutes } from "./http/routes/accounts.ts";
import { deviceRoutes } from "./http/routes/devices.ts";
import { keyRoutes } from "./http/routes/keys.ts";
import { messagingRoutes } from "./http/routes/messages.ts";
import { provisioningRoutes } from "./http/routes/provisioning.ts";
import { userRoutes } from "./http/routes/users.ts";
import { assetDir } from "./lib/assets.ts";
import type { Logger } from "./lib/log.ts";
import { createMetrics } from "./lib/metrics.ts";
import { createRateLimiter } from "./lib/rate-limit/index.ts";
import { createPresenceStore } from "./presence/index.ts";
import type { Database } from "./store/database.ts";
import { migrate, readMigrations } from "./store/migrate.ts";
import { openDatabase } from "./store/open.ts";
import { accountsModule } from "./wiring/accounts.ts";
import { messagingModule } from "./wiring/messaging.ts";
import { otpSenderFor } from "./wiring/otp-sender.ts";
import { frameHandler } from "./ws/frames.ts";
import { websocketGateway } from "./ws/gateway.ts";

export interface ServerOptions {
  config: Config;
  /** Absolute, already checked to be writable (config/data-dir.ts). */
  dataDir: string;
  log: Logger;
  version: string;
  /** Overrides for tests: another web client directory, extra API routes, a clock. */
  webDir?: string;
  api?: AnyElysia[];
  now?: () => number;
  wsPingIntervalMs?: number;
  /**
   * Tests only: receives the content-free pushes to offline members (the server sends
   * none until a push service is wired in).
   */
  testPushNotifier?: PushNotifier;
}

export interface RunningServer {
  url: URL;
  /** The admin API's Unix socket. */
  adminSocket: string;
  database: Database;
  /** The one-time setup code printed at first start (also returned for tests). */
  setupCode: string | undefined;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes the DB. */
  shutdown(reason: string): Promise<void>;
}

async function openMigrated(config: Config, dataDir: string, log: Logger): Promise<Database> {
  const database = await openDatabase(config, dataDir);
  try {
    const applied = await migrate(database, readMigrations(assetDir("migrations")));
    if (applied.length > 0) log.info("database migrated", { applied, database: database.location });
    return database;
  } catch (err) {
    await database.close();
    throw err;
  }
}

function displayUrl(config: Config, port: number, tls: boolean): URL {
  const host = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  return new URL(`${tls ? "https" : "http"}://${host.includes(":") ? `[${host}]` : host}:${port}`);
}

/** Opens and migrates the database, wires the services, then serves HTTP until shutdown. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { config, log, version } = options;
  const database = await openMigrated(config, options.dataDir, log);
  let draining = false;
  const ctx: ProtocolContext = {
    prims: await defaultPrimitives(),
    rng: systemRng,
    now: options.now ?? Date.now,
  };
  const metrics = createMetrics({
    version,
    dbWriteQueueDepth: () => database.writeQueueDepth,
    dbSizeBytes: () => database.sizeBytes(),
  });
  const events = createEventBus(config.redis.url, { log });
  const limiter = createRateLimiter(config.redis.url, { log });
  const otpSender = otpSenderFor(config, (line) => log.warn(line));
  const accounts = await accountsModule({ config, database, ctx, events, limiter, otpSender, log });
  const messaging = messagingModule({
    config,
    database,
    ctx,
    events,
    log,
    presenceStore: createPresenceStore(config.redis.url, { log }),
    push: options.testPushNotifier,
  });
  const closeServices = async () => {
    await messaging.sweeper.stop();
    // Before the bus and the database: the last sockets' disconnects still use them.
    await messaging.presence.close();
    await limiter.close();
    await events.close();
    await accounts.usernames.close();
    await otpSender?.close?.();
    await database.close();
  };

  const gateway = websocketGateway({
    tokens: accounts.tokens,
    events,
    metrics,
    log,
    pingIntervalMs: options.wsPingIntervalMs,
    // Stamps last seen, and tells contacts when the user comes online or goes offline.
    onPresence: (p, state) => messaging.presence[state](p),
    frames: frameHandler({
      messages: messaging.messages,
      toDevice: messaging.toDevice,
      log,
      limit: async (principal, budget) =>
        enforceLimit(
          accounts.limiter,
          `${budget}:${principal.userId}`,
          budget === "messages"
            ? config.limits.messages_per_minute
            : config.limits.protocol_per_minute,
          MINUTE,
        ),
    }),
    // A `send` frame carries the message and its key headers, base64url (4/3 larger).
    maxFrameBytes:
      Math.ceil(
        ((config.messages.max_ciphertext_bytes + config.messages.max_key_header_bytes) * 4) / 3,
      ) +
      64 * 1024,
  });
  const app = createApp({
    config,
    log,
    metrics,
    readiness: readinessService(
      [{ name: "database", ping: () => database.ping() }],
      () => draining,
    ),
    version,
    webDir: options.webDir ?? assetDir("web"),
    isDraining: () => draining,
    api: [
      accountRoutes(accounts),
      deviceRoutes(accounts),
      keyRoutes(accounts),
      userRoutes(accounts),
      provisioningRoutes(accounts),
      messagingRoutes({ ...messaging, config, tokens: accounts.tokens, limiter: accounts.limiter }),
      gateway,
      ...(options.api ?? []),
    ],
  });

  const tls = config.tls.cert
    ? { cert: Bun.file(config.tls.cert), key: Bun.file(config.tls.key) }
    : undefined;
  // Elysia turns on SO_REUSEPORT by default; a second server on the same port must fail.
  try {
    app.listen({ hostname: config.host, port: config.port, tls, reusePort: false });
  } catch (err) {
    await closeServices();
    throw err;
  }
  const server = app.server!;
  const url = displayUrl(config, server.port ?? config.port, tls !== undefined);
  const publicUrl = (config.public_url || url.toString()).replace(/\/$/, "");

  // The admin API: only whoever can open this socket (mode 0600) administers the server.
  const adminSocket = config.admin.socket || join(options.dataDir, "admin.sock");
  rmSync(adminSocket, { force: true });
  const admin = adminApp({
    accounts: accounts.accountsStore,
    invites: accounts.invites,
    totp: accounts.totp,
    now: ctx.now,
    publicUrl,
    log,
  });
  // Created 0600 from the start (umask), not chmod-ed after a window of default permissions.
  const umask = process.umask(0o177);
  try {
    admin.listen({ unix: adminSocket });
  } catch (err) {
    await server.stop(true);
    await closeServices();
    throw err;
  } finally {
    process.umask(umask);
  }
  log.info("listening", {
    url: url.toString(),
    host: config.host,
    port: server.port,
    version,
    database: database.driver,
  });

  const setupCode = await accounts.invites.setupCodeIfNeeded(
    await accounts.accountsStore.countAdmins(),
  );
  if (setupCode) {
    // Printed on purpose, once: the link that creates the first admin (valid 24 h, single use).
    log.warn("no admin yet: open this link once to create the first admin account", {
      link: `${publicUrl}/setup#${setupCode}`,
    });
  }

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      draining = true;
      log.info("shutting down", { reason, graceMs: config.http.shutdown_grace_ms });
      await admin.stop(true);
      rmSync(adminSocket, { force: true });
      const drained = server.stop(false);
      const grace = Bun.sleep(config.http.shutdown_grace_ms).then(() => "timeout" as const);
      if ((await Promise.race([drained.then(() => "drained" as const), grace])) === "timeout") {
        log.warn("grace period over; closing open connections");
        await server.stop(true);
      }
      await closeServices();
      log.info("stopped");
    })();
    return stopping;
  };
  return { url, adminSocket, database, setupCode, shutdown };
}

/**
 * Test support (not product code): a throw-away redis-server per test file, on a free
 * port of 127.0.0.1, with persistence off. Lives here because only the rate-limit tests
 * use it so far; it belongs in tests/support once a second user appears.
 */

import { test } from "bun:test";
import { RedisClient, type Subprocess } from "bun";

/** The redis-server binary (Debian package `redis-server`), or null when not installed. */
export const REDIS_SERVER_BIN = Bun.which("redis-server");

const STARTUP_DEADLINE_MS = 5_000;
const PING_RETRY_MS = 10;
const PORT_ATTEMPTS = 3;

export interface RedisServer {
  url: string;
  /** Stops the process (SIGKILL, no shutdown save) and waits for it to exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  /** SIGSTOP / SIGCONT: the port stays open but nothing answers. */
  pause(): void;
  resume(): void;
}

/**
 * Whether the Redis tests can run. A missing redis-server fails the run under CI (which
 * must install it) and is only a warning on a developer's machine.
 */
export function redisServerAvailable(): boolean {
  if (REDIS_SERVER_BIN !== null) return true;
  if (process.env.CI) {
    test("redis-server is installed", () => {
      throw new Error(
        "redis-server not found on PATH: CI must install the Debian package redis-server",
      );
    });
  } else {
    process.stderr.write(
      "warning: redis-server not found, skipping the Redis rate-limit tests (apt-get install redis-server)\n",
    );
  }
  return false;
}

/** Starts a private redis-server and resolves once it answers PING. */
export async function startRedisServer(): Promise<RedisServer> {
  for (let i = 1; ; i++) {
    const port = await freePort();
    try {
      let proc = await spawnOn(port);
      return {
        url: `redis://127.0.0.1:${port}`,
        async stop() {
          proc.kill("SIGKILL");
          await proc.exited;
        },
        async restart() {
          proc = await spawnOn(port);
        },
        pause: () => proc.kill("SIGSTOP"),
        resume: () => proc.kill("SIGCONT"),
      };
    } catch (error) {
      // Someone may have taken the port between freePort and redis-server's bind.
      if (i >= PORT_ATTEMPTS) throw error;
    }
  }
}

async function spawnOn(port: number): Promise<Subprocess> {
  const proc = Bun.spawn(
    [
      REDIS_SERVER_BIN ?? "redis-server",
      ...["--port", String(port), "--bind", "127.0.0.1"],
      ...["--save", "", "--appendonly", "no"],
    ],
    { stdin: "ignore", stdout: "ignore", stderr: "ignore" },
  );
  const deadline = Date.now() + STARTUP_DEADLINE_MS;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited with ${proc.exitCode}`);
    if (await answersPing(port)) return proc;
    await Bun.sleep(PING_RETRY_MS);
  }
  proc.kill("SIGKILL");
  throw new Error(`redis-server did not answer PING on port ${port}`);
}

async function answersPing(port: number): Promise<boolean> {
  const client = new RedisClient(`redis://127.0.0.1:${port}`, {
    autoReconnect: false,
    enableOfflineQueue: false,
  });
  try {
    await client.connect();
    return (await client.send("PING", [])) === "PONG";
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** A port nobody listens on right now (the OS picks it). */
async function freePort(): Promise<number> {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: { data() {} },
  });
  const port = listener.port;
  listener.stop(true);
  return port;
}

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { AnyElysia } from "elysia";
import { loadConfig } from "../../server/config/load.ts";
import type { Config } from "../../server/config/schema.ts";
import { type Dependency, readinessService } from "../../server/domain/readiness.ts";
import { createApp } from "../../server/http/app.ts";
import { createLogger } from "../../server/lib/log.ts";
import { createMetrics } from "../../server/lib/metrics.ts";
import { tempDir } from "./databases.ts";

/** A log sink that keeps JSON lines for assertions. */
export function captureLog(level: "debug" | "info" = "debug") {
  const lines: string[] = [];
  const log = createLogger({ level, format: "json", write: (l) => lines.push(l) });
  return {
    log,
    lines,
    entries: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    text: () => lines.join(""),
  };
}

/** A built-web-client stand-in: index.html, one hashed bundle and a favicon. */
export function fakeWebDir() {
  const dir = tempDir("parley-web-");
  mkdirSync(join(dir.path, "assets"));
  writeFileSync(
    join(dir.path, "index.html"),
    "<!doctype html><title>Parley</title><div id=root></div>",
  );
  writeFileSync(join(dir.path, "assets", "index-abc123.js"), "console.log('parley')");
  writeFileSync(join(dir.path, "favicon.svg"), "<svg xmlns='http://www.w3.org/2000/svg'/>");
  return dir;
}

export interface TestAppOptions {
  env?: Record<string, string>;
  webDir?: string;
  api?: AnyElysia[];
  dependencies?: Dependency[];
  draining?: () => boolean;
}

/** The real HTTP app, in-process (`app.handle`), with a captured log. */
export function testApp(options: TestAppOptions = {}) {
  const config: Config = loadConfig({ env: options.env ?? {} }).config;
  const captured = captureLog();
  const metrics = createMetrics({
    version: "0.0.0-test",
    dbWriteQueueDepth: () => 0,
    dbSizeBytes: async () => 4096,
  });
  const isDraining = options.draining ?? (() => false);
  const app = createApp({
    config,
    log: captured.log,
    metrics,
    readiness: readinessService(options.dependencies ?? [], isDraining),
    version: "0.0.0-test",
    webDir: options.webDir ?? "/nonexistent",
    isDraining,
    api: options.api,
  });
  const request = (path: string, init?: RequestInit) =>
    app.handle(new Request(`http://localhost${path}`, init));
  return { app, request, config, ...captured };
}

/** The catalogue code of an error response. */
export async function errorCodeOf(res: Response): Promise<string> {
  return ((await res.json()) as { code: string }).code;
}

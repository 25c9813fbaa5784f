import { afterEach, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { tempDir } from "../tests/support/databases.ts";
import { checkBoundaries } from "./check-boundaries.ts";

const dirs: { remove(): void }[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

/** A throw-away source tree: { "protocol/x.ts": "import …" }. */
function fixture(files: Record<string, string>): string {
  const dir = tempDir("parley-boundaries-");
  dirs.push(dir);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir.path, path)), { recursive: true });
    writeFileSync(join(dir.path, path), text);
  }
  return dir.path;
}

test("the repository respects its import boundaries", () => {
  expect(checkBoundaries(join(import.meta.dir, ".."))).toEqual([]);
});

test("allowed imports pass", () => {
  const root = fixture({
    "protocol/a.ts":
      'import { sha256 } from "@noble/hashes/sha2.js";\nimport { Type } from "@sinclair/typebox";\nimport { b } from "./b.ts";',
    "sdk/a.ts": 'import { ParleyError } from "../protocol/errors.ts";',
    "server/http/a.ts":
      'import type { X } from "../domain/ports.ts";\nimport { log } from "../lib/log.ts";',
    "server/store/a.ts": 'import type { AuditRepository } from "../domain/ports.ts";',
    "server/main.ts": 'import { openDatabase } from "./store/open.ts";',
    "cli/commands/serve.ts": 'import { startServer } from "../../server/main.ts";',
    "web/src/a.tsx":
      'import { render } from "solid-js/web";\nimport { f } from "../../sdk/server-info.ts";',
    "server/store/a.test.ts": 'import { x } from "../../tests/support/x.ts";',
  });
  expect(checkBoundaries(root)).toEqual([]);
});

const FORBIDDEN: [string, Record<string, string>, RegExp][] = [
  [
    "protocol/ importing server/",
    { "protocol/a.ts": 'import { startServer } from "../server/main.ts";' },
    /protocol\/ is runtime-neutral/,
  ],
  [
    "protocol/ importing node:",
    { "protocol/a.ts": 'import { readFileSync } from "node:fs";' },
    /no bun: or node: modules/,
  ],
  [
    "sdk/ importing bun:",
    { "sdk/a.ts": 'import { Database } from "bun:sqlite";' },
    /no bun: or node: modules/,
  ],
  [
    "sdk/ importing a server package",
    { "sdk/a.ts": 'import { Elysia } from "elysia";' },
    /sdk\/ is runtime-neutral/,
  ],
  [
    "web/ importing server/",
    { "web/src/a.ts": 'import { createApp } from "../../server/http/app.ts";' },
    /web\/ may import only/,
  ],
  [
    "domain importing store",
    { "server/domain/a.ts": 'import { users } from "../store/schema.ts";' },
    /server\/domain\/ may import only/,
  ],
  [
    "http importing store (type-only counts)",
    { "server/http/a.ts": 'import type {\n  Database,\n} from "../store/database.ts";' },
    /handlers cannot reach the database/,
  ],
  [
    "lib importing domain",
    { "server/lib/a.ts": 'export * from "../domain/ports.ts";' },
    /server\/lib\/ is a leaf/,
  ],
  [
    "store importing http",
    { "server/store/a.ts": 'const m = await import("../http/app.ts");' },
    /may not import http/,
  ],
  [
    "cli/ beyond serve importing server/",
    { "cli/commands/admin.ts": 'import { x } from "../../server/store/open.ts";' },
    /only cli\/commands\/serve\.ts may import server\//,
  ],
  [
    "server/ importing cli/",
    { "server/http/a.ts": 'import { run } from "../../cli/run.ts";' },
    /server\/ may import only server\/ and protocol\//,
  ],
  [
    "a drizzle transaction outside the drivers",
    { "server/store/repos/a.ts": "await db.transaction(async (tx) => {});" },
    /sync-only on bun:sqlite/,
  ],
];
for (const [name, files, rule] of FORBIDDEN) {
  test(`forbidden: ${name}`, () => {
    const violations = checkBoundaries(fixture(files));
    expect(violations).toHaveLength(1);
    expect(violations[0]!.rule).toMatch(rule);
    expect(violations[0]!.line).toBeGreaterThan(0);
  });
}

test("the command-line check exits 1 and names the file on a violation", () => {
  const root = fixture({ "protocol/bad.ts": 'import { startServer } from "../server/main.ts";' });
  const out = Bun.spawnSync([process.execPath, join(import.meta.dir, "check-boundaries.ts"), root]);
  expect(out.exitCode).toBe(1);
  expect(out.stderr.toString()).toContain("protocol/bad.ts:1: imports '../server/main.ts'");
});

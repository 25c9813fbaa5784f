// The release artefact: `npm run build` makes dist/parley, which must run alone, anywhere.

import { Database } from "bun:sqlite";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { tempDir } from "./support/databases.ts";
import { spawnServer } from "./support/process.ts";

const REPO = join(import.meta.dir, "..");
const dir = tempDir("parley-binary-");
const binary = join(dir.path, "parley");
const env = { PATH: "/usr/bin:/bin" };

beforeAll(() => {
  const build = Bun.spawnSync(["npm", "run", "build"], {
    cwd: REPO,
    stdout: "pipe",
    stderr: "pipe",
  });
  if (build.exitCode !== 0) throw new Error(`npm run build failed:\n${build.stderr}`);
  copyFileSync(join(REPO, "dist", "parley"), binary);
  Bun.spawnSync(["chmod", "+x", binary]);
}, 180_000);
afterAll(() => dir.remove());

test("dist/parley alone reports its version", () => {
  const out = Bun.spawnSync([binary, "--version"], { cwd: dir.path, env });
  expect(out.exitCode).toBe(0);
  expect(out.stdout.toString()).toBe(`${pkg.version}\n`);
});

test("dist/parley alone serves health, the web shell and a freshly migrated database", async () => {
  const s = await spawnServer([binary, "serve", "--port", "0", "--host", "127.0.0.1"], {
    cwd: dir.path,
    env,
  });
  try {
    const health = await fetch(`${s.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: "ok", version: pkg.version, apiVersion: 1 });
    expect((await fetch(`${s.url}/ready`)).status).toBe(200);

    const shell = await fetch(`${s.url}/`);
    expect(shell.status).toBe(200);
    expect(shell.headers.get("content-type")).toStartWith("text/html");
    const html = await shell.text();
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const bundle = await fetch(`${s.url}${script}`);
    expect(bundle.status).toBe(200);
    expect(bundle.headers.get("content-type")).toContain("javascript");
    expect((await fetch(`${s.url}/api/v1/missing`)).status).toBe(404);
  } finally {
    s.proc.kill("SIGTERM");
    expect(await s.proc.exited).toBe(0);
  }
  const journal = JSON.parse(readFileSync(join(REPO, "migrations/meta/_journal.json"), "utf8"));
  const db = new Database(join(dir.path, "data", "parley.db"), { readonly: true });
  const applied = db.query("SELECT count(*) AS n FROM __drizzle_migrations").get() as { n: number };
  const tables = db.query("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
    name: string;
  }[];
  db.close();
  expect(applied.n).toBe(journal.entries.length);
  expect(tables.map((t) => t.name)).toEqual(
    expect.arrayContaining(["users", "devices", "audit_log", "one_time_prekeys"]),
  );
}, 30_000);

test("dist/parley refuses a bad config in one line with exit 2", () => {
  const out = Bun.spawnSync([binary, "serve", "--port", "http"], { cwd: dir.path, env });
  expect(out.exitCode).toBe(2);
  expect(out.stderr.toString()).toBe(
    'parley: config error: port: must be an integer from 0 to 65535 (got "http" from flag --port)\n',
  );
});

// `parley` as a person meets it: real processes, real exit codes, real output.

import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import pkg from "../package.json" with { type: "json" };
import { MIGRATIONS, tempDir } from "./support/databases.ts";
import { spawnServer } from "./support/process.ts";

const MAIN = join(import.meta.dir, "..", "cli", "main.ts");
const work = tempDir("parley-cli-");
afterAll(() => work.remove());

function parley(args: string[], env: Record<string, string> = {}) {
  const out = Bun.spawnSync([process.execPath, MAIN, ...args], {
    cwd: work.path,
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
  });
  return { code: out.exitCode, stdout: out.stdout.toString(), stderr: out.stderr.toString() };
}

describe("parley", () => {
  test("--version prints the release", () => {
    const r = parley(["--version"]);
    expect(r).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });

  test("--help lists the commands", () => {
    const r = parley(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("serve");
  });

  test("serve --help lists every option", () => {
    const r = parley(["serve", "--help"]);
    expect(r.code).toBe(0);
    for (const flag of [
      "--config",
      "--print-config",
      "--port",
      "--data-dir",
      "--database-url",
      "--metrics-token",
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  test("no command shows usage and exits 2", () => {
    const r = parley([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("USAGE");
  });

  const usage: [string, string[], Record<string, string>, RegExp][] = [
    ["unknown command", ["serv"], {}, /^parley: unknown command 'serv'; did you mean 'serve'\?/],
    [
      "unknown option",
      ["serve", "--prot", "80"],
      {},
      /^parley: unknown option '--prot' for 'parley serve'; did you mean --port\?$/,
    ],
    [
      "stray argument",
      ["serve", "now"],
      {},
      /^parley: unexpected argument 'now' for 'parley serve'$/,
    ],
    [
      "bad port flag",
      ["serve", "--port", "99999"],
      {},
      /^parley: config error: port: must be an integer from 0 to 65535 \(got 99999 from flag --port\)$/,
    ],
    [
      "bad port env",
      ["serve"],
      { PARLEY_PORT: "eighty" },
      /^parley: config error: port: must be an integer .*env PARLEY_PORT/,
    ],
    [
      "unknown env",
      ["serve"],
      { PARLEY_DATADIR: "/tmp" },
      /^parley: config error: PARLEY_DATADIR: unknown environment variable, did you mean 'PARLEY_DATA_DIR'\?$/,
    ],
    [
      "unwritable data dir",
      ["serve", "--data-dir", "/proc/parley"],
      {},
      /^parley: config error: data_dir: '\/proc\/parley' is not a writable directory/,
    ],
    [
      "missing config file",
      ["serve", "--config", "nope.toml"],
      {},
      /^parley: config error: config: cannot read .*nope\.toml: ENOENT$/,
    ],
  ];
  for (const [name, args, env, message] of usage) {
    test(`${name}: one line, exit 2`, () => {
      const r = parley(args, env);
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
    });
  }

  test("unknown key in the config file: one line, exit 2", () => {
    writeFileSync(join(work.path, "typo.toml"), "[server]\nport = 1\n");
    const r = parley(["serve", "-c", "typo.toml"]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^parley: config error: server: unknown key in .*typo\.toml$/);
  });

  test("--print-config shows the effective config with secrets masked", () => {
    writeFileSync(
      join(work.path, "ok.toml"),
      'port = 9100\n[database]\nurl = "https://db.example.org"\n',
    );
    const r = parley(["serve", "--config", "ok.toml", "--print-config"], {
      PARLEY_DATABASE_AUTH_TOKEN: "sup3r-s3cret",
      PARLEY_LOG_LEVEL: "warn",
    });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("sup3r-s3cret");
    expect(r.stdout).toContain('auth_token = "********"  # env PARLEY_DATABASE_AUTH_TOKEN');
    expect(r.stdout).toMatch(/^port = 9100 {2}# file .*ok\.toml$/m);
    expect(r.stdout).toContain('level = "warn"  # env PARLEY_LOG_LEVEL');
  });
});

describe("parley serve", () => {
  test("runs with no config at all, and SIGTERM stops it cleanly (exit 0, WAL folded in)", async () => {
    const dir = tempDir();
    try {
      const s = await spawnServer(
        [process.execPath, MAIN, "serve", "--port", "0", "--host", "127.0.0.1"],
        {
          cwd: dir.path,
        },
      );
      expect((await fetch(`${s.url}/health`)).status).toBe(200);
      s.proc.kill("SIGTERM");
      expect(await s.proc.exited).toBe(0);
      expect(s.stderr()).toContain('"msg":"stopped"');
      expect(Bun.file(join(dir.path, "data", "parley.db")).size).toBeGreaterThan(0);
      expect(Bun.file(join(dir.path, "data", "parley.db-wal")).size).toBe(0);
    } finally {
      dir.remove();
    }
  });

  test("a port in use is one line and exit 1", async () => {
    const dir = tempDir();
    const blocker = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response("busy"),
    });
    try {
      const out = Bun.spawnSync(
        [process.execPath, MAIN, "serve", "--host", "127.0.0.1", "--port", String(blocker.port)],
        { cwd: dir.path, env: { PATH: process.env.PATH ?? "" } },
      );
      expect(out.exitCode).toBe(1);
      const lines = out.stderr.toString().trim().split("\n");
      expect(lines.at(-1)).toBe(
        `parley: port ${blocker.port} on 127.0.0.1 is already in use; choose another with --port or PARLEY_PORT`,
      );
    } finally {
      blocker.stop(true);
      dir.remove();
    }
  });

  test("a database from a newer Parley is refused in one line, exit 1, untouched", async () => {
    const dir = tempDir();
    try {
      // Create and migrate the database once, then mark it as migrated by a future release.
      const s = await spawnServer([process.execPath, MAIN, "serve", "--port", "0"], {
        cwd: dir.path,
      });
      s.proc.kill("SIGTERM");
      await s.proc.exited;
      const file = join(dir.path, "data", "parley.db");
      const db = new Database(file);
      db.run(
        "INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('future', 99999999999999)",
      );
      db.close();
      const out = Bun.spawnSync([process.execPath, MAIN, "serve", "--port", "0"], {
        cwd: dir.path,
        env: { PATH: process.env.PATH ?? "" },
      });
      expect(out.exitCode).toBe(1);
      const last = out.stderr.toString().trim().split("\n").at(-1);
      expect(last).toMatch(
        /^parley: the database schema is newer than this parley \(it has a migration from \d{4}-\d\d-\d\d\); run a newer parley/,
      );
      const check = new Database(file, { readonly: true });
      // Every migration this parley knows, plus the future one: nothing was applied or removed.
      expect(check.query("SELECT count(*) AS n FROM __drizzle_migrations").get()).toEqual({
        n: MIGRATIONS.length + 1,
      });
      check.close();
    } finally {
      dir.remove();
    }
  });
});

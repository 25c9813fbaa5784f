import { afterEach, describe, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { DRIVERS, MIGRATIONS, openWithDriver, tempDir } from "../../tests/support/databases.ts";
import { openBunSqlite } from "./bun-sqlite.ts";
import type { Database } from "./database.ts";
import { migrate, planMigrations, SchemaMismatchError } from "./migrate.ts";

const REPO = join(import.meta.dir, "../..");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function open(driver: (typeof DRIVERS)[number]): { db: Database; file: string } {
  const dir = tempDir();
  const file = join(dir.path, "parley.db");
  const db = openWithDriver(driver, file);
  cleanups.push(
    () => dir.remove(),
    () => db.close(),
  );
  return { db, file };
}

const tables = async (db: Database) =>
  (
    (await db.db.all(sql`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)) as {
      name: string;
    }[]
  ).map((r) => r.name);

for (const driver of DRIVERS) {
  describe(`migrations on ${driver}`, () => {
    test("an empty database gets every migration, once", async () => {
      const { db } = open(driver);
      expect(await migrate(db, MIGRATIONS)).toEqual(MIGRATIONS.map((m) => m.tag));
      expect(await migrate(db, MIGRATIONS)).toEqual([]);
      expect(await tables(db)).toEqual(
        expect.arrayContaining([
          "device_lists",
          "refresh_tokens",
          "users_fts",
          "users",
          "devices",
          "audit_log",
          "one_time_prekeys",
          "pq_prekeys",
          "signed_prekeys",
        ]),
      );
      const plan = await planMigrations(db, MIGRATIONS);
      expect(plan.pending).toEqual([]);
      expect(plan.applied).toHaveLength(MIGRATIONS.length);
    });

    test("0001_prekeys upgrades a 0000_core database that holds rows", async () => {
      const { db } = open(driver);
      expect(await migrate(db, MIGRATIONS, { to: 0 })).toEqual(["0000_core"]);
      await db.write(async (tx) => {
        await tx.run(
          sql`INSERT INTO users (id, username, is_admin, created_at, updated_at) VALUES ('u1', 'alice', 1, 10, 10)`,
        );
        await tx.run(
          sql`INSERT INTO devices (id, user_id, identity_key, certificate, platform, created_at) VALUES ('d1', 'u1', ${new Uint8Array(32).fill(1)}, ${new Uint8Array(64)}, 'web', 11)`,
        );
        await tx.run(
          sql`INSERT INTO audit_log (at, actor, action, target) VALUES (12, 'admin-cli', 'user.create', 'u1')`,
        );
      });
      expect(await migrate(db, MIGRATIONS, { to: 1 })).toEqual(["0001_prekeys"]);
      expect(await db.db.all(sql`SELECT id, username, is_admin FROM users`)).toEqual([
        { id: "u1", username: "alice", is_admin: 1 },
      ]);
      expect(await db.db.all(sql`SELECT id, user_id FROM devices`)).toEqual([
        { id: "d1", user_id: "u1" },
      ]);
      expect(await db.db.all(sql`SELECT action FROM audit_log`)).toEqual([
        { action: "user.create" },
      ]);
      // The new table works with the old rows: a prekey for the existing device.
      await db.write(async (tx) => {
        await tx.run(
          sql`INSERT INTO one_time_prekeys (device_id, key_id, public_key, signature) VALUES ('d1', 1, x'01', x'02')`,
        );
      });
      expect(await db.db.all(sql`SELECT count(*) AS n FROM one_time_prekeys`)).toEqual([{ n: 1 }]);
    });

    test("0002_accounts and 0003_users_fts upgrade a 0001 database: old users are searchable", async () => {
      const { db } = open(driver);
      await migrate(db, MIGRATIONS, { to: 1 });
      await db.write(async (tx) => {
        await tx.run(
          sql`INSERT INTO users (id, username, created_at, updated_at) VALUES ('u1', 'alice.smith', 1, 1), ('u2', 'bob', 1, 1), ('u3', NULL, 1, 1)`,
        );
      });
      expect(await migrate(db, MIGRATIONS, { to: 3 })).toEqual(["0002_accounts", "0003_users_fts"]);
      expect(
        await db.db.all(sql`SELECT last_seen_visibility AS v FROM users WHERE id = 'u1'`),
      ).toEqual([{ v: "contacts" }]);
      const search = async (q: string) =>
        (
          (await db.db.all(
            sql`SELECT u.username FROM users_fts f JOIN users u ON u.rowid = f.rowid WHERE users_fts MATCH ${q} ORDER BY u.username`,
          )) as { username: string }[]
        ).map((r) => r.username);
      expect(await search('"ice"')).toEqual(["alice.smith"]);
      // The triggers keep the index in step with later changes.
      await db.write(async (tx) => {
        await tx.run(
          sql`INSERT INTO users (id, username, created_at, updated_at) VALUES ('u4', 'malice', 1, 1)`,
        );
        await tx.run(sql`UPDATE users SET username = NULL WHERE id = 'u1'`);
      });
      expect(await search('"ice"')).toEqual(["malice"]);
    });

    test("a database written by a newer Parley is refused", async () => {
      const { db } = open(driver);
      await migrate(db, MIGRATIONS);
      const future = MIGRATIONS.at(-1)!.createdAt + 86_400_000;
      await db.write(async (tx) => {
        await tx.run(
          sql`INSERT INTO __drizzle_migrations (hash, created_at) VALUES ('abc', ${future})`,
        );
      });
      const err = await migrate(db, MIGRATIONS).catch((e) => e);
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect(err.message).toMatch(/^the database schema is newer than this parley/);
    });

    test("a landed migration whose file changed is refused", async () => {
      const { db } = open(driver);
      await migrate(db, MIGRATIONS);
      const edited = MIGRATIONS.map((m, i) => (i === 0 ? { ...m, hash: "0".repeat(64) } : m));
      const err = await migrate(db, edited).catch((e) => e);
      expect(err).toBeInstanceOf(SchemaMismatchError);
      expect(err.message).toContain("0000_core differs");
    });
  });
}

describe("migrations match the drizzle schema", () => {
  const push = (file: string) =>
    Bun.spawnSync(
      [
        join(REPO, "node_modules/.bin/drizzle-kit"),
        "push",
        "--dialect=sqlite",
        "--schema=./server/store/schema.ts",
        // The hand-written FTS index (migration 0003), as in drizzle.config.ts.
        "--tablesFilter=!users_fts*",
        `--url=file:${file}`,
      ],
      { cwd: REPO, stdin: "ignore", env: { ...process.env, NO_COLOR: "1" } },
    );

  test("drizzle-kit finds no change between the migrated database and schema.ts", async () => {
    const { db, file } = open("bun-sqlite");
    await migrate(db, MIGRATIONS);
    await db.close();
    const out = push(file);
    expect(out.stdout.toString() + out.stderr.toString()).toContain("No changes detected");
  }, 60_000);

  test("…and it does see a difference when there is one (the check can fail)", async () => {
    const { db, file } = open("bun-sqlite");
    await migrate(db, MIGRATIONS);
    await db.close();
    const copy = `${file}.copy`;
    copyFileSync(file, copy);
    const tampered = openBunSqlite(copy);
    await tampered.write(async (tx) => {
      await tx.run(sql`DROP INDEX audit_log_at_idx`);
    });
    await tampered.close();
    const out = push(copy);
    expect(out.stdout.toString() + out.stderr.toString()).not.toContain("No changes detected");
  }, 60_000);
});

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { CREATE_MIGRATIONS_TABLE, type Database, MIGRATIONS_TABLE } from "./database.ts";

/** One drizzle-kit migration (migrations/NNNN_tag.sql, listed in meta/_journal.json). */
export interface Migration {
  index: number;
  tag: string;
  /** drizzle-kit's `when`: the migration's identity in the migrations table. */
  createdAt: number;
  /** sha256 of the file, as drizzle records it; a landed migration must never change. */
  hash: string;
  statements: string[];
}

/** The database was written by a newer Parley, or its migrations were tampered with. */
export class SchemaMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SchemaMismatchError";
  }
}

interface Journal {
  entries: { idx: number; when: number; tag: string }[];
}

/** Reads the migrations folder written by drizzle-kit (embedded in the binary). */
export function readMigrations(dir: string): Migration[] {
  const journal = JSON.parse(readFileSync(join(dir, "meta", "_journal.json"), "utf8")) as Journal;
  return journal.entries.map((entry) => {
    const text = readFileSync(join(dir, `${entry.tag}.sql`), "utf8");
    return {
      index: entry.idx,
      tag: entry.tag,
      createdAt: entry.when,
      hash: new Bun.CryptoHasher("sha256").update(text).digest("hex"),
      statements: text
        .split("--> statement-breakpoint")
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    };
  });
}

export interface MigrationPlan {
  applied: Migration[];
  pending: Migration[];
}

/**
 * Compares the database with the migrations this binary knows. Throws SchemaMismatchError
 * when the database has a migration this binary does not know (written by a newer Parley)
 * or a known one whose file has changed since it was applied.
 */
export async function planMigrations(db: Database, known: Migration[]): Promise<MigrationPlan> {
  await db.write(async (tx) => {
    await tx.run(sql.raw(CREATE_MIGRATIONS_TABLE));
  });
  const rows = (await db.db.all(
    sql.raw(`SELECT hash, created_at FROM ${MIGRATIONS_TABLE} ORDER BY created_at`),
  )) as { hash: string; created_at: number | string }[];
  const byTime = new Map(known.map((m) => [m.createdAt, m]));
  const newestKnown = Math.max(0, ...known.map((m) => m.createdAt));
  const applied: Migration[] = [];
  for (const row of rows) {
    const createdAt = Number(row.created_at);
    const migration = byTime.get(createdAt);
    if (!migration) {
      const when = new Date(createdAt).toISOString().slice(0, 10);
      throw new SchemaMismatchError(
        createdAt > newestKnown
          ? `the database schema is newer than this parley (it has a migration from ${when}); run a newer parley or restore a backup made by this version`
          : `the database has a migration from ${when} that this parley does not know; it was not made by this release line`,
      );
    }
    if (migration.hash !== row.hash) {
      throw new SchemaMismatchError(
        `migration ${migration.tag} differs from the one applied to this database; landed migrations must never be edited`,
      );
    }
    applied.push(migration);
  }
  const done = new Set(applied);
  return { applied, pending: known.filter((m) => !done.has(m)) };
}

/**
 * Brings the database up to date (or up to migration index `to`, for upgrade tests).
 * Each migration runs in its own transaction. Returns the tags applied.
 */
export async function migrate(
  db: Database,
  known: Migration[],
  options: { to?: number } = {},
): Promise<string[]> {
  const { pending } = await planMigrations(db, known);
  const todo = pending.filter((m) => options.to === undefined || m.index <= options.to);
  for (const m of todo) {
    await db.applyMigration(m.statements, { hash: m.hash, createdAt: m.createdAt });
  }
  return todo.map((m) => m.tag);
}

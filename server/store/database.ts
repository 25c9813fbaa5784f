import type { BaseSQLiteDatabase } from "drizzle-orm/sqlite-core";
import type * as schema from "./schema.ts";

/**
 * A drizzle database over either driver. Repositories `await` every query, so the same
 * code runs on bun:sqlite (sync) and libSQL (async).
 */
export type SqlDb = BaseSQLiteDatabase<"sync" | "async", unknown, typeof schema>;

/** The storage engine behind the repositories. */
export interface Database {
  readonly driver: "bun-sqlite" | "libsql";
  /** Where it lives, for logs and status (a path, or a URL without credentials). */
  readonly location: string;
  /** For reads. Sees committed data only. */
  readonly db: SqlDb;
  /**
   * Runs `fn` in one write transaction (BEGIN IMMEDIATE), serialized with every other write
   * of this process; commits when `fn` resolves, rolls back when it throws. Keep `fn` short
   * and free of I/O other than this transaction's queries.
   */
  write<T>(fn: (tx: SqlDb) => Promise<T>): Promise<T>;
  /**
   * Applies one migration's statements in a single transaction with foreign keys off, then
   * checks foreign keys (SQLite's procedure for schema changes).
   */
  applyMigration(statements: string[], record: { hash: string; createdAt: number }): Promise<void>;
  /** Throws unless the database answers a trivial query. */
  ping(): Promise<void>;
  /** Size in bytes when known (embedded database). */
  sizeBytes(): Promise<number | undefined>;
  /**
   * Folds the write-ahead log into the database file and empties it, so content erased on
   * purpose (expired or deleted messages) leaves no copy in the WAL. Nothing to do for a
   * remote database.
   */
  eraseWalCopies(): Promise<void>;
  /** Writes queued or running in this process. */
  readonly writeQueueDepth: number;
  close(): Promise<void>;
}

/** drizzle-kit's migrations table; drizzle-kit ignores it when comparing schemas. */
export const MIGRATIONS_TABLE = "__drizzle_migrations";
export const CREATE_MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS ${MIGRATIONS_TABLE} (id INTEGER PRIMARY KEY AUTOINCREMENT, hash TEXT NOT NULL, created_at NUMERIC)`;

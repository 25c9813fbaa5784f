import { Database as SqliteConnection } from "bun:sqlite";
import { statSync } from "node:fs";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { Mutex } from "../lib/mutex.ts";
import { type Database, MIGRATIONS_TABLE, type SqlDb } from "./database.ts";
import * as schema from "./schema.ts";

/** How long a write waits for another process's write lock before failing. */
export const BUSY_TIMEOUT_MS = 5_000;

/**
 * Pragmas of every connection. WAL lets readers run beside the writer. synchronous=FULL
 * fsyncs the WAL at every commit, so an acknowledged write survives kill -9 and also a
 * power loss (NORMAL would survive kill -9 but could lose the last commits on power loss).
 * foreign_keys is OFF by default in SQLite and must be set on each connection.
 * secure_delete overwrites deleted content with zeros, so erased message ciphertext does
 * not linger in free pages of the file.
 */
const PRAGMAS = [
  "PRAGMA journal_mode = WAL",
  "PRAGMA synchronous = FULL",
  "PRAGMA foreign_keys = ON",
  "PRAGMA secure_delete = ON",
  `PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`,
  "PRAGMA temp_store = MEMORY",
  // Keep a checkpointed WAL from growing without bound on disk.
  "PRAGMA journal_size_limit = 67108864",
];

function connect(path: string, readonly: boolean): SqliteConnection {
  const conn = new SqliteConnection(path, readonly ? { readonly: true } : { create: true });
  for (const pragma of PRAGMAS) {
    // A read-only connection cannot change the journal mode; the writer already set it.
    if (readonly && pragma.includes("journal_mode")) continue;
    conn.run(pragma);
  }
  return conn;
}

/**
 * The embedded database: one file in the data directory, a write connection used only
 * under the write mutex, and a read connection that sees committed data only.
 */
export function openBunSqlite(path: string): Database {
  const writer = connect(path, false);
  const reader = connect(path, true);
  const writeDb = drizzle({ client: writer, schema }) as unknown as SqlDb;
  const readDb = drizzle({ client: reader, schema }) as unknown as SqlDb;
  const mutex = new Mutex();
  let closed = false;

  // bun:sqlite transactions are sync-only (an async callback commits partial writes), so
  // the transaction is opened by hand on the write connection, which nothing else uses.
  const inTransaction = <T>(begin: string, fn: () => Promise<T>): Promise<T> =>
    mutex.run(async () => {
      writer.run(begin);
      try {
        const result = await fn();
        writer.run("COMMIT");
        return result;
      } catch (err) {
        if (writer.inTransaction) writer.run("ROLLBACK");
        throw err;
      }
    });

  return {
    driver: "bun-sqlite",
    location: path,
    db: readDb,
    write: (fn) => inTransaction("BEGIN IMMEDIATE", () => fn(writeDb)),
    async applyMigration(statements, record) {
      await mutex.run(async () => {
        // foreign_keys cannot change inside a transaction: switch it off around it.
        writer.run("PRAGMA foreign_keys = OFF");
        try {
          writer.run("BEGIN IMMEDIATE");
          try {
            for (const stmt of statements) writer.run(stmt);
            const broken = writer.query("PRAGMA foreign_key_check").all();
            if (broken.length > 0) {
              throw new Error(`migration breaks ${broken.length} foreign key(s)`);
            }
            writer
              .query(`INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES (?, ?)`)
              .run(record.hash, record.createdAt);
            writer.run("COMMIT");
          } catch (err) {
            if (writer.inTransaction) writer.run("ROLLBACK");
            throw err;
          }
        } finally {
          writer.run("PRAGMA foreign_keys = ON");
        }
      });
    },
    async ping() {
      reader.query("SELECT 1").get();
    },
    async sizeBytes() {
      const size = (p: string) => {
        try {
          return statSync(p).size;
        } catch {
          return 0;
        }
      };
      return size(path) + size(`${path}-wal`);
    },
    async eraseWalCopies() {
      await mutex.run(async () => {
        if (!closed) writer.run("PRAGMA wal_checkpoint(TRUNCATE)");
      });
    },
    get writeQueueDepth() {
      return mutex.depth;
    },
    async close() {
      // Wait for queued writes, then fold the WAL into the main file: drizzle's cached
      // statements can keep a closed connection alive, so the checkpoint is explicit.
      await mutex.run(async () => {
        if (closed) return;
        closed = true;
        reader.close();
        writer.run("PRAGMA wal_checkpoint(TRUNCATE)");
        writer.close();
      });
    },
  };
}

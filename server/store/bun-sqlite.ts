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
 * The connection as drizzle sees it, with `prepare` answered from bun:sqlite's statement
 * cache (`query`): drizzle prepares every query anew, and compiling the SQL cost more than
 * running it on the message path. Statements run synchronously on one thread, so a cached
 * statement is never in use twice at once.
 */
function cachingStatements(conn: SqliteConnection): SqliteConnection {
  return new Proxy(conn, {
    get(target, key) {
      if (key === "prepare") return (sql: string) => target.query(sql);
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** Most writes one transaction (one fsync) carries. */
export const MAX_WRITES_PER_COMMIT = 512;

interface WriteJob {
  fn: (tx: SqlDb) => Promise<unknown>;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/**
 * The embedded database: one file in the data directory, a write connection used only
 * under the write mutex, and a read connection that sees committed data only.
 */
export function openBunSqlite(path: string): Database {
  const writer = connect(path, false);
  const reader = connect(path, true);
  const writeDb = drizzle({ client: cachingStatements(writer), schema }) as unknown as SqlDb;
  const readDb = drizzle({ client: cachingStatements(reader), schema }) as unknown as SqlDb;
  const mutex = new Mutex();
  let closed = false;

  // bun:sqlite transactions are sync-only (an async callback commits partial writes), so
  // transactions are opened by hand on the write connection, which nothing else uses.
  // Group commit: writes queued while a transaction runs share the next one, each inside its
  // own savepoint (a failing write rolls back alone), and all are answered after the one
  // COMMIT — so each still returns only once it is on disk, at one fsync per batch.
  const queue: WriteJob[] = [];
  let draining = false;

  const runBatch = async (batch: WriteJob[]) => {
    const outcomes: { ok: boolean; value: unknown }[] = [];
    try {
      writer.run("BEGIN IMMEDIATE");
      for (const job of batch) {
        writer.run("SAVEPOINT write");
        try {
          const value = await job.fn(writeDb);
          writer.run("RELEASE write");
          outcomes.push({ ok: true, value });
        } catch (err) {
          writer.run("ROLLBACK TO write");
          writer.run("RELEASE write");
          outcomes.push({ ok: false, value: err });
        }
      }
      writer.run("COMMIT");
    } catch (err) {
      // The transaction itself failed (disk full, I/O error): nothing of the batch is stored.
      if (writer.inTransaction) writer.run("ROLLBACK");
      for (const job of batch) job.reject(err);
      return;
    }
    batch.forEach((job, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) job.resolve(outcome.value);
      else job.reject(outcome.value);
    });
  };

  const drain = async () => {
    try {
      while (queue.length > 0) await runBatch(queue.splice(0, MAX_WRITES_PER_COMMIT));
    } finally {
      draining = false;
    }
  };

  const write = <T>(fn: (tx: SqlDb) => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!draining) {
        draining = true;
        // Start on the next turn of the event loop: every frame and request already read
        // queues its write first, so they share this commit.
        setImmediate(() => void mutex.run(drain));
      }
    });

  return {
    driver: "bun-sqlite",
    location: path,
    db: readDb,
    write,
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
      return mutex.depth + queue.length;
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

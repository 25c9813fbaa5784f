import type { Client } from "@libsql/client/web";
import type { LibSQLDatabase } from "drizzle-orm/libsql";
import { Mutex } from "../lib/mutex.ts";
import { type Database, MIGRATIONS_TABLE, type SqlDb } from "./database.ts";

/**
 * A libSQL database: a remote sqld/Turso server in production (through the pure-JS web
 * client, since the native addon breaks `bun build --compile`), or a local file in the
 * repository tests (through @libsql/client's native driver).
 *
 * libSQL turns on foreign keys by default and runs `client.transaction("write")` as
 * BEGIN IMMEDIATE. Its local transactions fail at once with SQLITE_BUSY under concurrency,
 * so this process's writes are queued behind a mutex.
 */
export function wrapLibsql(
  client: Client,
  db: LibSQLDatabase<Record<string, unknown>>,
  location: string,
): Database {
  const mutex = new Mutex();
  const sqlDb = db as unknown as SqlDb;
  return {
    driver: "libsql",
    location,
    db: sqlDb,
    write: (fn) => mutex.run(() => db.transaction((tx) => fn(tx as unknown as SqlDb))),
    async applyMigration(statements, record) {
      await mutex.run(async () => {
        // client.migrate runs the batch in one transaction with foreign keys off.
        await client.migrate([
          ...statements,
          {
            sql: `INSERT INTO ${MIGRATIONS_TABLE} (hash, created_at) VALUES (?, ?)`,
            args: [record.hash, record.createdAt],
          },
        ]);
        // The batch has committed by now; a broken foreign key still stops the start-up.
        const broken = await client.execute("PRAGMA foreign_key_check");
        if (broken.rows.length > 0) {
          throw new Error(`migration broke ${broken.rows.length} foreign key(s)`);
        }
      });
    },
    async ping() {
      await client.execute("SELECT 1");
    },
    async sizeBytes() {
      return undefined;
    },
    // A local file (tests) keeps its WAL until close; a remote server manages its own.
    async eraseWalCopies() {},
    get writeQueueDepth() {
      return mutex.depth;
    },
    async close() {
      await mutex.run(async () => {
        if (!client.closed) client.close();
      });
    },
  };
}

/** Opens a remote libSQL database (libsql://, http://, https://). */
export async function openLibsqlRemote(url: string, authToken: string): Promise<Database> {
  const { createClient } = await import("@libsql/client/web");
  const { drizzle } = await import("drizzle-orm/libsql/web");
  const schema = await import("./schema.ts");
  const client = createClient({ url, authToken: authToken || undefined });
  const db = drizzle({ client, schema });
  const shown = new URL(url);
  shown.username = "";
  shown.password = "";
  shown.search = "";
  return wrapLibsql(client, db as LibSQLDatabase<Record<string, unknown>>, shown.toString());
}

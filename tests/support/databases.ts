import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient } from "@libsql/client";
import { drizzle } from "drizzle-orm/libsql";
import { assetDir } from "../../server/lib/assets.ts";
import { openBunSqlite } from "../../server/store/bun-sqlite.ts";
import type { Database } from "../../server/store/database.ts";
import { wrapLibsql } from "../../server/store/libsql.ts";
import { migrate, readMigrations } from "../../server/store/migrate.ts";
import * as schema from "../../server/store/schema.ts";

export type DriverName = "bun-sqlite" | "libsql-file";

/**
 * The drivers every repository test runs against. No sqld server can run here, so the
 * libSQL driver is exercised through @libsql/client in local-file mode; the remote
 * (HTTP) transport itself is not tested.
 */
export const DRIVERS: readonly DriverName[] = ["bun-sqlite", "libsql-file"];

export function tempDir(prefix = "parley-test-"): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** Opens a database file with the named driver (no migrations applied). */
export function openWithDriver(driver: DriverName, file: string): Database {
  if (driver === "bun-sqlite") return openBunSqlite(file);
  const client = createClient({ url: `file:${file}` });
  return wrapLibsql(client, drizzle({ client, schema }), file);
}

export const MIGRATIONS = readMigrations(assetDir("migrations"));

export interface TestDatabase {
  database: Database;
  file: string;
  /** Closes the database and removes its directory. */
  cleanup(): Promise<void>;
}

/** A fresh, fully migrated database in a temporary directory. */
export async function freshDatabase(driver: DriverName): Promise<TestDatabase> {
  const dir = tempDir();
  const file = join(dir.path, "parley.db");
  const database = openWithDriver(driver, file);
  await migrate(database, MIGRATIONS);
  return {
    database,
    file,
    async cleanup() {
      await database.close();
      dir.remove();
    },
  };
}

import { join } from "node:path";
import type { Config } from "../config/schema.ts";
import { openBunSqlite } from "./bun-sqlite.ts";
import type { Database } from "./database.ts";
import { openLibsqlRemote } from "./libsql.ts";

/** File name of the embedded database inside the data directory. */
export const DATABASE_FILE = "parley.db";

/** Opens the configured database: remote libSQL when database.url is set, else embedded. */
export function openDatabase(config: Config, dataDir: string): Promise<Database> {
  if (config.database.url !== "") {
    return openLibsqlRemote(config.database.url, config.database.auth_token);
  }
  return Promise.resolve(openBunSqlite(join(dataDir, DATABASE_FILE)));
}

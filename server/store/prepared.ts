import type { SqlDb } from "./database.ts";

const byConnection = new WeakMap<object, Map<string, unknown>>();

/**
 * A drizzle prepared query (built with `sql.placeholder`s), built once per connection and
 * reused: drizzle otherwise rebuilds the SQL text of every query from its builder on every
 * call, which cost more than running it on the message path. The embedded store hands every
 * write the same connection, so its queries are built once; a driver that hands each write a
 * new transaction object builds them per transaction (correct, just not faster).
 */
export function prepared<T>(db: SqlDb, name: string, build: (db: SqlDb) => T): T {
  let queries = byConnection.get(db);
  if (!queries) {
    queries = new Map();
    byConnection.set(db, queries);
  }
  let query = queries.get(name) as T | undefined;
  if (query === undefined) {
    query = build(db);
    queries.set(name, query);
  }
  return query;
}

import type { UserId } from "../ports.ts";

/** One username of the directory, as an index holds it. */
export interface UsernameEntry {
  id: UserId;
  username: string;
}

/**
 * The index behind the directory search. Two implementations: SQLite FTS5 in the database
 * (server/store/repos/username-fts.ts; triggers keep it, so put and remove do nothing) and
 * Meilisearch (server/lib/search/meilisearch.ts) when `directory.meilisearch_url` is set.
 *
 * What `search` returns are candidates: an index outside the database may lag, so the
 * directory re-checks every hit against the accounts store before showing it. `put` and
 * `remove` never throw: a registration or a deletion must not fail because the search index
 * is down; the implementation logs the failure and the next reindex catches up.
 */
export interface UsernameIndex {
  search(query: string, limit: number): Promise<UsernameEntry[]>;
  put(entry: UsernameEntry): Promise<void>;
  remove(id: UserId): Promise<void>;
  /** Stops background work (a running reindex) before the database closes. */
  close(): Promise<void>;
}

/** An index outside the database: it can miss updates, so it is brought in line at start. */
export interface ExternalUsernameIndex extends Omit<UsernameIndex, "close"> {
  /** Creates the index and its settings when missing. Throws when the index is unreachable. */
  prepare(): Promise<void>;
  /** Puts `entries` and removes `removed`, and waits until both are applied. Throws on failure. */
  sync(entries: UsernameEntry[], removed: UserId[]): Promise<void>;
}

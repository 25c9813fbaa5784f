import type { Config } from "../config/schema.ts";
import { reindexUsernames } from "../domain/accounts/username-reindex.ts";
import type { AccountsStore } from "../domain/ports/accounts.ts";
import type { UsernameIndex } from "../domain/ports/username-index.ts";
import type { UserId } from "../domain/ports.ts";
import type { Logger } from "../lib/log.ts";
import { meilisearchUsernameIndex } from "../lib/search/meilisearch.ts";
import { ftsUsernameIndex } from "../store/repos/username-fts.ts";

/**
 * The directory search index from config: Meilisearch when `directory.meilisearch_url` is
 * set (and the search is on), SQLite FTS5 otherwise. With Meilisearch, a full reindex
 * starts in the background (start-up does not wait for it) and runs again whenever the
 * index may have missed updates; at most one runs at a time.
 */
export function usernameIndexFor(deps: {
  config: Config;
  accounts: AccountsStore;
  log: Logger;
}): UsernameIndex {
  const { search, meilisearch_url: url, meilisearch_key: apiKey } = deps.config.directory;
  if (!search || url === "") return ftsUsernameIndex(deps.accounts);
  let running: Promise<unknown> | undefined;
  let closed = false;
  const reindex = () => {
    if (running || closed) return;
    running = reindexUsernames({
      accounts: deps.accounts,
      index,
      log: deps.log,
      stopping: () => closed,
    }).finally(() => {
      running = undefined;
    });
  };
  const index = meilisearchUsernameIndex<UserId>({
    url,
    apiKey,
    log: deps.log,
    fallback: (query, limit) => deps.accounts.searchUsernames(query, limit),
    onStale: reindex,
  });
  reindex();
  return {
    search: (query, limit) => index.search(query, limit),
    put: (entry) => index.put(entry),
    remove: (id) => index.remove(id),
    async close() {
      closed = true;
      await running;
    },
  };
}

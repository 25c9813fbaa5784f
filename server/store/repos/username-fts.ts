import type { AccountsStore } from "../../domain/ports/accounts.ts";
import type { UsernameIndex } from "../../domain/ports/username-index.ts";

/**
 * The directory search on SQLite FTS5 (the trigram index `users_fts`, migration 0003): the
 * default. Triggers keep the index in the same transaction as every username change, so
 * `put` and `remove` have nothing to do.
 */
export function ftsUsernameIndex(accounts: AccountsStore): UsernameIndex {
  return {
    search: (query, limit) => accounts.searchUsernames(query, limit),
    put: async () => {},
    remove: async () => {},
    close: async () => {},
  };
}

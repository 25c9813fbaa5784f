import type { Logger } from "../../lib/log.ts";
import type { AccountsStore } from "../ports/accounts.ts";
import type { ExternalUsernameIndex, UsernameEntry } from "../ports/username-index.ts";
import type { UserId } from "../ports.ts";
import { listedInDirectory } from "./directory.ts";

/** Accounts read, and sent to the index, per step of a reindex. */
export const REINDEX_BATCH_SIZE = 500;

/**
 * Brings an external search index in line with the database: every account the directory
 * lists is put, every other one (deleted, disabled, not yet claimed) removed, in batches
 * of REINDEX_BATCH_SIZE. Runs at start and whenever the index comes back after missing
 * updates. A change racing with a batch can leave one entry stale until the next run; the
 * directory re-checks every hit, so a stale entry is never shown. Never throws: a failure
 * is logged, and the index tells its owner when to try again.
 */
export async function reindexUsernames(deps: {
  accounts: AccountsStore;
  index: ExternalUsernameIndex;
  log: Logger;
  batchSize?: number;
  /** Checked between batches: true stops the run (shutdown). */
  stopping?: () => boolean;
}): Promise<boolean> {
  const batchSize = deps.batchSize ?? REINDEX_BATCH_SIZE;
  const started = performance.now();
  let listed = 0;
  let unlisted = 0;
  try {
    await deps.index.prepare();
    let after: UserId | undefined;
    for (;;) {
      const page = await deps.accounts.listAfter(after, batchSize);
      const entries: UsernameEntry[] = [];
      const removed: UserId[] = [];
      for (const account of page) {
        if (listedInDirectory(account))
          entries.push({ id: account.id, username: account.username });
        else removed.push(account.id);
      }
      if (page.length > 0) await deps.index.sync(entries, removed);
      listed += entries.length;
      unlisted += removed.length;
      if (page.length < batchSize || deps.stopping?.()) break;
      after = page[page.length - 1]!.id;
    }
  } catch (err) {
    deps.log.warn("directory search reindex failed", {
      error: err,
      listed,
    });
    return false;
  }
  deps.log.info("directory search reindexed", {
    listed,
    unlisted,
    ms: Math.round(performance.now() - started),
  });
  return true;
}

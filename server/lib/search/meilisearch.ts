import { Meilisearch, MeilisearchApiError, type Task } from "meilisearch";
import type { Logger } from "../log.ts";

/** The Meilisearch index of the directory, and its primary key. */
export const USERS_INDEX = "users";
export const PRIMARY_KEY = "id";
/** A search sits on the request path: past this, the fallback answers instead. */
export const REQUEST_TIMEOUT_MS = 2_000;
/** After a failure, Meilisearch is left alone this long; searches use the fallback meanwhile. */
export const RETRY_INTERVAL_MS = 10_000;
/** How long one reindex step (index creation, settings, one batch) may take to be applied. */
export const TASK_TIMEOUT_MS = 60_000;
const TASK_POLL_INTERVAL_MS = 100;

/**
 * One username. Mirrors `UsernameEntry` of server/domain/ports/username-index.ts (server/lib
 * is a leaf and may not import the domain); `Id` lets the caller keep its branded id type.
 */
export interface IndexedUsername<Id extends string> {
  id: Id;
  username: string;
}

export interface MeilisearchUsernameIndexOptions<Id extends string> {
  url: string;
  apiKey: string;
  /** Answers searches while Meilisearch is unreachable (SQLite full-text search). */
  fallback: (query: string, limit: number) => Promise<IndexedUsername<Id>[]>;
  log: Logger;
  /**
   * Called when the index may have missed updates or lost its contents: Meilisearch is back
   * after a failure, or the index does not exist. The caller reindexes from the database.
   */
  onStale?: () => void;
  requestTimeoutMs?: number;
  retryIntervalMs?: number;
  taskTimeoutMs?: number;
}

/** A failed call to Meilisearch, with a message safe to log (no API key, no cause object). */
export class SearchIndexError extends Error {
  override name = "SearchIndexError";
}

/**
 * The directory search on Meilisearch: index `users`, primary key `id`, only `username`
 * searchable. Meilisearch matches words by prefix and forgives typos, where SQLite's trigram
 * index matches any three-character substring.
 *
 * `search` never fails: while Meilisearch is unreachable (or refuses us), searches go to
 * `fallback`; `put` and `remove` never throw and are skipped meanwhile. One warning marks
 * the start of an outage and one line its end, after which `onStale` lets the caller
 * reindex what was missed. Writes are not awaited as tasks: Meilisearch applies them
 * moments later, and the directory re-checks every hit against the database anyway.
 */
export function meilisearchUsernameIndex<Id extends string>(
  options: MeilisearchUsernameIndexOptions<Id>,
) {
  const { log } = options;
  const retryIntervalMs = options.retryIntervalMs ?? RETRY_INTERVAL_MS;
  const client = new Meilisearch({
    host: options.url,
    apiKey: options.apiKey || undefined,
    timeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS,
    defaultWaitOptions: {
      timeout: options.taskTimeoutMs ?? TASK_TIMEOUT_MS,
      interval: TASK_POLL_INTERVAL_MS,
    },
  });
  const index = client.index<IndexedUsername<Id>>(USERS_INDEX);
  let healthy = true;
  let retryAt = 0;

  // Error texts name the URL and Meilisearch's error code, never the key; the key (and a
  // password in the URL) are scrubbed all the same.
  const secrets = [options.apiKey, URL.parse(options.url)?.password ?? ""].filter((s) => s !== "");
  const describe = (err: unknown): string => {
    const text =
      err instanceof MeilisearchApiError
        ? `${err.response.status} ${err.cause?.code ?? ""}`.trim()
        : err instanceof Error
          ? `${err.name}: ${err.message}${err.cause instanceof Error ? ` (${err.cause.message})` : ""}`
          : String(err);
    return secrets.reduce((t, secret) => t.replaceAll(secret, "[redacted]"), text);
  };

  function failed(operation: string, err: unknown): SearchIndexError {
    const error = describe(err);
    retryAt = Date.now() + retryIntervalMs;
    if (healthy) {
      healthy = false;
      log.warn("meilisearch unavailable: the directory search uses SQLite until it is back", {
        operation,
        error,
      });
    } else if (operation === "put" || operation === "remove") {
      // Reindex steps throw instead, and their caller logs.
      log.warn("meilisearch update failed", { operation, error });
    }
    if (err instanceof MeilisearchApiError && err.cause?.code === "index_not_found")
      options.onStale?.();
    return new SearchIndexError(`meilisearch ${operation} failed: ${error}`);
  }

  function succeeded(): void {
    if (healthy) return;
    healthy = true;
    log.info("meilisearch available again: reindexing the directory");
    options.onStale?.();
  }

  const available = () => healthy || Date.now() >= retryAt;

  /** Runs `call` unless Meilisearch is resting after a failure; never throws. */
  async function attempt<T>(operation: string, call: () => Promise<T>): Promise<T | undefined> {
    if (!available()) {
      log.debug("meilisearch skipped while unavailable", { operation });
      return undefined;
    }
    try {
      const result = await call();
      succeeded();
      return result;
    } catch (err) {
      failed(operation, err);
      return undefined;
    }
  }

  /** Runs a reindex step; throws a SearchIndexError on failure. */
  async function step(operation: string, call: () => Promise<Task | undefined>): Promise<void> {
    let task: Task | undefined;
    try {
      task = await call();
    } catch (err) {
      throw failed(operation, err);
    }
    if (task?.status === "failed" || task?.status === "canceled") {
      throw new SearchIndexError(
        `meilisearch ${operation} task ${task.status}: ${task.error?.code ?? "unknown"}`,
      );
    }
    succeeded();
  }

  return {
    /** False from a failure until Meilisearch answers again. */
    get healthy() {
      return healthy;
    },

    async search(query: string, limit: number): Promise<IndexedUsername<Id>[]> {
      const found = await attempt("search", () =>
        index.search(query, { limit, attributesToRetrieve: [PRIMARY_KEY, "username"] }),
      );
      if (!found) return options.fallback(query, limit);
      return found.hits.flatMap((hit) =>
        typeof hit.id === "string" && typeof hit.username === "string"
          ? [{ id: hit.id, username: hit.username }]
          : [],
      );
    },

    async put(entry: IndexedUsername<Id>): Promise<void> {
      const doc = { id: entry.id, username: entry.username };
      await attempt("put", () => index.addDocuments([doc], { primaryKey: PRIMARY_KEY }));
    },

    async remove(id: Id): Promise<void> {
      await attempt("remove", () => index.deleteDocument(id));
    },

    async prepare(): Promise<void> {
      await step("create index", async () => {
        const task = await client.createIndex(USERS_INDEX, { primaryKey: PRIMARY_KEY }).waitTask();
        // An index that is already there is what we want.
        return task.error?.code === "index_already_exists" ? undefined : task;
      });
      await step("settings", () =>
        index.updateSettings({ searchableAttributes: ["username"] }).waitTask(),
      );
    },

    async sync(entries: IndexedUsername<Id>[], removed: Id[]): Promise<void> {
      const docs = entries.map((e) => ({ id: e.id, username: e.username }));
      if (docs.length > 0) {
        await step("put batch", () =>
          index.addDocuments(docs, { primaryKey: PRIMARY_KEY }).waitTask(),
        );
      }
      if (removed.length > 0)
        await step("remove batch", () => index.deleteDocuments(removed).waitTask());
    },
  };
}

export type MeilisearchUsernameIndex<Id extends string> = ReturnType<
  typeof meilisearchUsernameIndex<Id>
>;

import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { captureLog } from "../../../tests/support/app.ts";
import { meilisearchMock } from "../../../tests/support/meilisearch-mock.ts";
import { meilisearchUsernameIndex, SearchIndexError } from "./meilisearch.ts";

const KEY = "meili-master-key-never-logged-4f9a";
const mock = meilisearchMock(KEY);
afterAll(() => mock.stop());

const entry = (id: string, username: string) => ({ id, username });
const FALLBACK_HIT = entry("00000000-0000-7000-8000-00000000f7b5", "from_sqlite");

function indexWith(options: { url?: string; apiKey?: string; retryIntervalMs?: number } = {}) {
  const log = captureLog();
  let stale = 0;
  const index = meilisearchUsernameIndex<string>({
    url: options.url ?? mock.url,
    apiKey: options.apiKey ?? KEY,
    log: log.log,
    fallback: async () => [FALLBACK_HIT],
    onStale: () => stale++,
    retryIntervalMs: options.retryIntervalMs ?? 60_000,
    requestTimeoutMs: 500,
  });
  return { index, log, stale: () => stale };
}

describe("meilisearchUsernameIndex against a mock Meilisearch", () => {
  beforeEach(() => {
    mock.indexes.clear();
    mock.requests.length = 0;
    mock.lagging = false;
  });

  test("prepare creates index users (primary key id, username searchable), twice too", async () => {
    const { index } = indexWith();
    await index.prepare();
    await index.prepare(); // the second finds the index there
    const users = mock.indexes.get("users");
    expect(users?.primaryKey).toBe("id");
    expect(users?.searchableAttributes).toEqual(["username"]);
    expect(mock.requests.every((r) => r.authorized)).toBe(true);
  });

  test("put, search and remove; sync puts and removes a batch", async () => {
    const { index } = indexWith();
    await index.prepare();
    await index.put(entry("a1", "alice"));
    await index.put(entry("b1", "bob"));
    expect(await index.search("lic", 20)).toEqual([entry("a1", "alice")]);
    await index.remove("a1");
    expect(await index.search("lic", 20)).toEqual([]);
    await index.sync([entry("c1", "carol"), entry("d1", "dave")], ["b1"]);
    expect(mock.documents().map((d) => d.id)).toEqual(["c1", "d1"]);
    expect(await index.search("a", 1)).toHaveLength(1);
  });

  test("while Meilisearch is down: the fallback answers, writes do not throw, one warning", async () => {
    const { index, log } = indexWith({ url: "http://127.0.0.1:9" });
    expect(await index.search("alice", 20)).toEqual([FALLBACK_HIT]);
    await index.put(entry("a1", "alice"));
    await index.remove("a1");
    expect(await index.search("alice", 20)).toEqual([FALLBACK_HIT]);
    expect(index.healthy).toBe(false);
    const warnings = log.entries().filter((e) => e.level === "warn");
    expect(warnings.map((w) => w.msg)).toEqual([
      "meilisearch unavailable: the directory search uses SQLite until it is back",
    ]);
    const failure = await index.prepare().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(SearchIndexError);
    expect(log.text()).not.toContain(KEY);
  });

  test("a wrong key counts as unavailable, and neither key is logged", async () => {
    const wrong = "wrong-key-also-never-logged-77";
    const { index, log } = indexWith({ apiKey: wrong });
    await index.prepare().catch(() => {});
    expect(await index.search("alice", 20)).toEqual([FALLBACK_HIT]);
    expect(log.text()).toContain("invalid_api_key");
    expect(log.text()).not.toContain(wrong);
    expect(log.text()).not.toContain(KEY);
  });

  test("back after a failure: one line, and the caller is told to reindex", async () => {
    const { index, log, stale } = indexWith({ retryIntervalMs: 0 });
    mock.stop();
    try {
      expect(await index.search("alice", 20)).toEqual([FALLBACK_HIT]);
    } finally {
      mock.start();
    }
    expect(stale()).toBe(0);
    await index.prepare();
    expect(index.healthy).toBe(true);
    expect(stale()).toBe(1);
    expect(log.entries().map((e) => e.msg)).toContain(
      "meilisearch available again: reindexing the directory",
    );
  });

  test("a missing index sends searches to the fallback and asks for a reindex", async () => {
    const { index, stale } = indexWith();
    expect(await index.search("alice", 20)).toEqual([FALLBACK_HIT]);
    expect(stale()).toBe(1);
  });
});

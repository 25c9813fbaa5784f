import { afterAll, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { register } from "../../sdk/account.ts";
import { prepareDataDir } from "../../server/config/data-dir.ts";
import { loadConfig } from "../../server/config/load.ts";
import { type RunningServer, startServer } from "../../server/main.ts";
import { users } from "../../server/store/schema.ts";
import { type AccountsFixture, accountsFixture, type TestUser } from "../support/accounts.ts";
import { captureLog } from "../support/app.ts";
import { apiClient, FEW_PREKEYS } from "../support/client.ts";
import { meilisearchMock } from "../support/meilisearch-mock.ts";

// The directory search end to end through a real server and the real HTTP route, with
// Meilisearch played by tests/support/meilisearch-mock.ts (no Meilisearch can run here).
const KEY = "meili-key-3b7c0e21-never-in-the-log";
const mock = meilisearchMock(KEY);
const env = {
  PARLEY_DIRECTORY_MEILISEARCH_URL: mock.url,
  PARLEY_DIRECTORY_MEILISEARCH_KEY: KEY,
};

const f: AccountsFixture = await accountsFixture(env);
const restarted: { server?: RunningServer; log?: ReturnType<typeof captureLog> } = {};
afterAll(async () => {
  await restarted.server?.shutdown("test done");
  await f.cleanup(); // also removes the data directory the restarted server used
  mock.stop();
});

const token = (u: TestUser) => u.api.auth.tokens!.accessToken;
const idOf = (u: TestUser) => u.state.userId as string;

async function search(as: TestUser, q: string, url = f.url) {
  const res = await fetch(`${url}/api/v1/users/search?q=${encodeURIComponent(q)}`, {
    headers: { authorization: `Bearer ${token(as)}` },
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { users: { userId: string; username: string }[] }).users;
}

const searchesSeen = () =>
  mock.requests.filter((r) => r.method === "POST" && r.path === "/indexes/users/search").length;

async function until(what: string, done: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(20);
  }
}

describe("directory search with a mock Meilisearch", () => {
  let alice: TestUser;
  let bob: TestUser;

  test("start-up creates the users index in the background", async () => {
    await until(
      "the users index",
      () => mock.indexes.get("users")?.searchableAttributes[0] === "username",
    );
    expect(mock.indexes.get("users")?.primaryKey).toBe("id");
    expect(mock.requests.length).toBeGreaterThan(0);
    expect(mock.requests.every((r) => r.authorized)).toBe(true);
  });

  test("registering puts the user in the index", async () => {
    alice = await f.user("alice_meili");
    bob = await f.user("bob_meili");
    expect(mock.documents()).toContainEqual({ id: idOf(alice), username: "alice_meili" });
    expect(mock.documents()).toContainEqual({ id: idOf(bob), username: "bob_meili" });
  });

  test("search answers from Meilisearch, with the username from the database", async () => {
    const before = searchesSeen();
    expect(await search(alice, "meili")).toEqual(
      expect.arrayContaining([
        { userId: idOf(alice), username: "alice_meili" },
        { userId: idOf(bob), username: "bob_meili" },
      ]),
    );
    expect(searchesSeen()).toBe(before + 1);
    // Only the index knows bob as "qqq_alias": SQLite could not have found him.
    mock.indexes.get("users")!.documents.set(idOf(bob), { id: idOf(bob), username: "qqq_alias" });
    expect(await search(alice, "qqq")).toEqual([{ userId: idOf(bob), username: "bob_meili" }]);
  });

  let carol: TestUser;
  let erin: TestUser;

  test("a deleted or disabled user still in the index is never returned", async () => {
    carol = await f.user("carol_meili");
    erin = await f.user("erin_meili");
    mock.lagging = true; // the deletion reaches Meilisearch but is not applied yet
    try {
      const res = await f.http("DELETE", "/api/v1/account", { token: token(carol) });
      expect(res.status).toBe(204);
    } finally {
      mock.lagging = false;
    }
    // No admin "disable" exists yet: set it in the database, behind the index's back.
    await f.server.server.database.write((tx) =>
      tx
        .update(users)
        .set({ disabledAt: Date.now() })
        .where(eq(users.id, idOf(erin))),
    );
    expect(mock.documents().map((d) => d.id)).toEqual(
      expect.arrayContaining([idOf(carol), idOf(erin)]),
    );
    const found = await search(alice, "meili");
    expect(found.map((u) => u.userId)).not.toContain(idOf(carol));
    expect(found.map((u) => u.userId)).not.toContain(idOf(erin));
    expect(found.map((u) => u.userId)).toContain(idOf(alice));
  });

  test("a restart reindexes: missing users come back, stale entries go", async () => {
    const dataDir = f.server.dataDir;
    await f.server.server.shutdown("restart");
    // The index lost alice and bob, and still has carol, deleted while it lagged, and erin.
    const docs = mock.indexes.get("users")!.documents;
    docs.delete(idOf(alice));
    docs.delete(idOf(bob));
    expect([...docs.keys()].sort()).toEqual([idOf(carol), idOf(erin)].sort());
    const { config } = loadConfig({
      env: {
        PARLEY_HOST: "127.0.0.1",
        PARLEY_PORT: "0",
        PARLEY_DATA_DIR: dataDir,
        PARLEY_REGISTRATION_MODE: "open",
        ...env,
      },
    });
    restarted.log = captureLog();
    restarted.server = await startServer({
      config,
      dataDir: prepareDataDir(config.data_dir),
      log: restarted.log.log,
      version: "0.0.0-test",
      webDir: "/nonexistent",
    });
    await until("the reindex", () =>
      (restarted.log?.entries() ?? []).some((e) => e.msg === "directory search reindexed"),
    );
    // Listed: alice and bob. Removed: carol (deleted) and erin (disabled).
    expect(
      mock.documents().sort((a, b) => String(a.username).localeCompare(String(b.username))),
    ).toEqual([
      { id: idOf(alice), username: "alice_meili" },
      { id: idOf(bob), username: "bob_meili" },
    ]);
    const url = restarted.server.url.toString().replace(/\/$/, "");
    expect(await search(alice, "carol", url)).toEqual([]);
  });

  test("with Meilisearch down, search and registration still work (SQLite answers)", async () => {
    const url = restarted.server!.url.toString().replace(/\/$/, "");
    mock.stop();
    try {
      const before = mock.requests.length;
      expect(await search(alice, "lice_mei", url)).toEqual([
        { userId: idOf(alice), username: "alice_meili" },
      ]);
      const res = await fetch(`${url}/api/v1/users/by-username/bob_meili`, {
        headers: { authorization: `Bearer ${token(alice)}` },
      });
      expect(res.status).toBe(200);
      expect(mock.requests.length).toBe(before);
      // Registering must not fail because the search index is down.
      const { state } = await register(f.ctx, apiClient(url), {
        username: "frank_meili",
        proof: { kind: "open" },
        platform: "cli",
        prekeyCounts: FEW_PREKEYS,
      });
      expect(await search(alice, "frank", url)).toEqual([
        { userId: state.userId, username: "frank_meili" },
      ]);
    } finally {
      mock.start();
    }
    const warnings = restarted.log!.entries().filter((e) => e.level === "warn");
    expect(warnings.map((w) => w.msg)).toContain(
      "meilisearch unavailable: the directory search uses SQLite until it is back",
    );
  });

  test("the Meilisearch key never appears in the server logs", () => {
    // The outage was logged, with the error, and the key is in neither server's log.
    expect(restarted.log!.text()).toContain("ECONNREFUSED");
    expect(f.server.log.text()).not.toContain(KEY);
    expect(restarted.log!.text()).not.toContain(KEY);
  });
});

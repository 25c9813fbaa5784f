// Disappearing messages: the sweeper (every second here) erases the ciphertext of a message
// whose expiresAt has passed by the server's clock, which the test moves forward instead of
// waiting; the sequence stays, as a tombstone.
import { afterAll, expect, test } from "bun:test";
import { fromBase64Url } from "../../protocol/api/base64.ts";
import type { TestUser } from "../support/accounts.ts";
import { filesUnder, findLeaks } from "../support/leaks.ts";
import { eventually, expectStatus, messagingFixture } from "./support.ts";

let offsetMs = 0;
const f = await messagingFixture(
  { PARLEY_MESSAGES_SWEEP_INTERVAL_S: "1" },
  { now: () => Date.now() + offsetMs },
);
afterAll(() => f.cleanup());

const history = async (u: TestUser, conversationId: string) =>
  (await f.call(u, "GET", `/conversations/${conversationId}/messages`)).json?.messages as {
    id: string;
    seq: number;
    ciphertext: string | null;
    expiresAt?: number;
  }[];

test("once expiresAt passes, the sweeper erases the ciphertext (history shows ciphertext null, the seq stays); a message without expiry is kept", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const { conversationId, sealed: kept } = await f.startDirect(alice, bob, "stays");
  const expiresAt = f.ctx.now() + 60_000;
  const gone = await f.sendText(alice, conversationId, "disappears", { expiresAt });
  expectStatus(gone.res, 201);

  const before = await history(bob, conversationId);
  expect(before[0]).toMatchObject({
    id: gone.sealed.id,
    ciphertext: gone.sealed.ciphertext,
    expiresAt,
  });

  // A minute later by the server's clock: the next sweep (within a second or two) erases it.
  offsetMs += 61_000;
  const after = await eventually(async () => {
    const page = await history(bob, conversationId);
    return page[0]?.ciphertext === null ? page : undefined;
  });
  expect(after).toEqual([
    expect.objectContaining({ id: gone.sealed.id, seq: 2, ciphertext: null, expiresAt }),
    expect.objectContaining({ id: kept.id, seq: 1, ciphertext: kept.ciphertext }),
  ]);
  expect(f.rows("SELECT ciphertext FROM messages WHERE id = ?", gone.sealed.id)).toEqual([
    { ciphertext: null },
  ]);
});

test("an erased ciphertext is gone from the data directory's files too (database, WAL), during the run and after shutdown", async () => {
  const g = await messagingFixture(
    { PARLEY_MESSAGES_SWEEP_INTERVAL_S: "1" },
    { now: () => Date.now() + offsetMs },
  );
  try {
    const alice = await g.user();
    const bob = await g.user();
    const { conversationId } = await g.startDirect(alice, bob, "stays");
    const gone = await g.sendText(alice, conversationId, "disappears", {
      expiresAt: g.ctx.now() + 60_000,
    });
    expectStatus(gone.res, 201);
    const ciphertext = fromBase64Url(gone.sealed.ciphertext, "ciphertext");
    // Its encrypted body and signature: the part no other row shares.
    const secret = ciphertext.slice(ciphertext.length - 96);
    expect(findLeaks({ ciphertext: secret }, filesUnder(g.server.dataDir))).not.toEqual([]);

    offsetMs += 61_000;
    await eventually(
      () =>
        g.rows("SELECT ciphertext FROM messages WHERE id = ?", gone.sealed.id)[0]?.ciphertext ===
        null,
    );
    const running = findLeaks({ ciphertext: secret }, filesUnder(g.server.dataDir));
    await g.server.server.shutdown("test");
    const stopped = findLeaks({ ciphertext: secret }, filesUnder(g.server.dataDir));
    expect({ running, stopped }).toEqual({ running: [], stopped: [] });
  } finally {
    await g.cleanup();
  }
});

// Catching up: history pages back newest first; a device that was not there (linked later)
// syncs everything of its user's conversations — messages in order, receipts, its to-device
// envelopes — in pages it can resume from the cursor.
import { afterAll, describe, expect, test } from "bun:test";
import type { TestUser } from "../support/accounts.ts";
import { expectError, expectStatus, messagingFixture } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

interface Frame {
  id: string;
  conversationId: string;
  seq: number;
  ciphertext: string | null;
}

test("history pages (before=, limit=) return 30 messages newest first, each once, then an empty page", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const { conversationId, sealed } = await f.startDirect(alice, bob, "message 1");
  const sent = [sealed];
  for (let i = 2; i <= 30; i++) {
    const next = await f.sendText(i % 2 ? alice : bob, conversationId, `message ${i}`);
    expectStatus(next.res, 201);
    expect(next.seq).toBe(i);
    sent.push(next.sealed);
  }

  const pages: number[][] = [];
  let before: number | undefined;
  for (;;) {
    const query = `limit=10${before === undefined ? "" : `&before=${before}`}`;
    const res = await f.call(bob, "GET", `/conversations/${conversationId}/messages?${query}`);
    expectStatus(res, 200);
    const page = res.json?.messages as Frame[];
    if (page.length === 0) break;
    pages.push(page.map((m) => m.seq));
    for (const m of page) expect(m).toMatchObject(sent[m.seq - 1]!);
    before = page.at(-1)!.seq;
  }
  const desc = (from: number) => Array.from({ length: 10 }, (_, i) => from - i);
  expect(pages).toEqual([desc(30), desc(20), desc(10)]);

  // Without a limit, 50 at most (all 30 here); a limit over 200 is refused.
  const all = await f.call(alice, "GET", `/conversations/${conversationId}/messages`);
  expect(((all.json?.messages ?? []) as Frame[]).map((m) => m.seq)).toEqual([
    ...desc(30),
    ...desc(20),
    ...desc(10),
  ]);
  expectError(
    await f.call(alice, "GET", `/conversations/${conversationId}/messages?limit=201`),
    400,
    "invalid_request",
    "query.limit",
  );
});

describe("sync", () => {
  interface SyncPage {
    messages: Frame[];
    receipts: { conversationId: string; userId: string; readSeq: number; deliveredSeq: number }[];
    membership: { conversationId: string; epoch: number; entry: string }[];
    toDevice: { pos: number; senderDeviceId: string; envelope: string }[];
    cursor: string;
    more: boolean;
  }
  const syncPage = async (u: TestUser, query = "") => {
    const res = await f.call(u, "GET", `/sync${query}`);
    expectStatus(res, 200);
    return res.json as unknown as SyncPage;
  };

  /** Alice's world before her tablet exists: two direct conversations, a group, receipts. */
  async function world() {
    const alice = await f.user();
    const bob = await f.user();
    const carol = await f.user();
    const withBob = await f.startDirect(alice, bob, "hi bob");
    const withCarol = await f.startDirect(carol, alice, "hi alice");
    const group = await f.group(alice);
    expectStatus(
      await group.change(alice, { type: "add", target: bob.state.userId, role: "member" }),
      200,
    );
    const sends: [TestUser, string, string][] = [
      [bob, withBob.conversationId, "hi alice"],
      [alice, group.id, "welcome"],
      [alice, withCarol.conversationId, "hi carol"],
      [bob, group.id, "thanks"],
      [alice, withBob.conversationId, "bye"],
    ];
    const ids = [withBob.sealed.id, withCarol.sealed.id];
    for (const [u, conversationId, text] of sends) {
      const sent = await f.sendText(u, conversationId, text);
      expectStatus(sent.res, 201);
      ids.push(sent.sealed.id);
    }
    expectStatus(
      await f.call(bob, "PUT", `/conversations/${withBob.conversationId}/read`, { seq: 3 }),
      204,
    );
    // A conversation alice is not in must not show up.
    await f.startDirect(bob, carol, "not for alice");
    return { alice, bob, carol, withBob, withCarol, group, ids };
  }

  test("a device linked later syncs from no cursor: every message of its user's conversations in order, the receipts, the membership log, its to-device envelopes", async () => {
    const { alice, bob, withBob, group, ids } = await world();
    const tablet = await f.linkDevice(alice);
    const envelope = "ZW52ZWxvcGUtZm9yLXRoZS10YWJsZXQ";
    expectStatus(
      await f.call(bob, "POST", "/to-device", {
        envelopes: [{ deviceId: tablet.state.deviceId, envelope }],
      }),
      201,
    );

    const page = await syncPage(tablet);
    expect(page.more).toBe(false);
    expect(page.messages.map((m) => m.id)).toEqual(ids);
    // Within each conversation, sequences rise with no gap.
    const seqs = new Map<string, number[]>();
    for (const m of page.messages)
      seqs.set(m.conversationId, [...(seqs.get(m.conversationId) ?? []), m.seq]);
    for (const list of seqs.values()) expect(list).toEqual(list.map((_, i) => i + 1));
    expect(page.receipts).toContainEqual(
      expect.objectContaining({
        conversationId: withBob.conversationId,
        userId: bob.state.userId,
        readSeq: 3,
      }),
    );
    expect(
      page.membership.filter((m) => m.conversationId === group.id).map((m) => m.entry),
    ).toEqual(group.entries);
    expect(page.toDevice).toEqual([
      expect.objectContaining({ senderDeviceId: bob.state.deviceId, envelope }),
    ]);

    // From its cursor, nothing new; a new message then comes alone.
    const again = await syncPage(tablet, `?cursor=${page.cursor}`);
    expect(again.messages).toEqual([]);
    const later = await f.sendText(bob, withBob.conversationId, "later");
    const next = await syncPage(tablet, `?cursor=${page.cursor}`);
    expect(next.messages.map((m) => m.id)).toEqual([later.sealed.id]);
  });

  test("pages of `limit` items with `more`, resumed from each cursor, add up to the single page", async () => {
    const { alice } = await world();
    const tablet = await f.linkDevice(alice);
    const whole = await syncPage(tablet);

    const messages: string[] = [];
    const receipts: unknown[] = [];
    const membership: unknown[] = [];
    let cursor = "";
    let pages = 0;
    for (;;) {
      const page = await syncPage(tablet, `?limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      pages++;
      expect(page.messages.length).toBeLessThanOrEqual(2);
      messages.push(...page.messages.map((m) => m.id));
      receipts.push(...page.receipts);
      membership.push(...page.membership);
      cursor = page.cursor;
      if (!page.more) break;
      expect(pages).toBeLessThan(20);
    }
    expect(pages).toBeGreaterThanOrEqual(4);
    expect(messages).toEqual(whole.messages.map((m) => m.id));
    expect(receipts).toEqual(whole.receipts);
    expect(membership).toEqual(whole.membership);
  });

  test("a cursor that is not one the server made → 400 naming query.cursor", async () => {
    const alice = await f.user();
    for (const bad of ["abc", "1.2.3", "-1.0.0.0", "1.2.3.4.5", "9999999999999999.0.0.0"]) {
      expectError(
        await f.call(alice, "GET", `/sync?cursor=${encodeURIComponent(bad)}`),
        400,
        "invalid_request",
        "query.cursor",
      );
    }
  });
});

// Former members: a member removed from a group keeps what they could read while in it, and
// learns nothing of the group after their removal — not its later membership changes (log,
// members, sync), not its read positions, and cannot reach its members (typing). A member
// added again reads their old range and the new one, not what was said while they were out.
import { afterAll, expect, test } from "bun:test";
import { expectStatus, framesOf, messagingFixture, settle } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

test("a removed member's sync carries the membership log up to their removal, not the changes made after it in the same millisecond", async () => {
  // The server's clock stands still, as it does for changes made within one millisecond, or
  // on a node whose clock lags another's (several nodes may share one database).
  const frozen = Date.now();
  const g = await messagingFixture({}, { now: () => frozen });
  try {
    const [alice, carol, dave] = [await g.user(), await g.user(), await g.user()];
    const group = await g.group(alice);
    expectStatus(
      await group.change(alice, { type: "add", target: carol.state.userId, role: "member" }),
      200,
    );
    expectStatus(await group.change(alice, { type: "remove", target: carol.state.userId }), 200);
    expectStatus(
      await group.change(alice, { type: "add", target: dave.state.userId, role: "member" }),
      200,
    );

    const synced = (await g.call(carol, "GET", "/sync")).json?.membership as { epoch: number }[];
    expect(synced.map((m) => m.epoch)).toEqual([0, 1, 2]);
  } finally {
    await g.cleanup();
  }
});

/** Carol was removed from alice's group; dave was added after that. */
async function removedThenChanged() {
  const { alice, carol, group } = await f.groupOfThree();
  expectStatus(await group.change(alice, { type: "remove", target: carol.state.userId }), 200);
  const removedAt = group.state.epoch;
  const dave = await f.user();
  expectStatus(
    await group.change(alice, { type: "add", target: dave.state.userId, role: "member" }),
    200,
  );
  return { carol, dave, group, removedAt };
}

test("a removed member's GET /conversations/:id/membership stops at their removal (as their sync does)", async () => {
  const { carol, group, removedAt } = await removedThenChanged();
  const res = await f.call(carol, "GET", `/conversations/${group.id}/membership`);
  expect(res.status).toBeLessThan(500);
  const epochs = ((res.json?.entries as string[] | undefined) ?? []).map((e) =>
    group.entries.indexOf(e),
  );
  expect(epochs).toEqual(Array.from({ length: removedAt + 1 }, (_, i) => i));
  const synced = (await f.call(carol, "GET", "/sync")).json?.membership as {
    conversationId: string;
    epoch: number;
  }[];
  expect(synced.filter((m) => m.conversationId === group.id).map((m) => m.epoch)).toEqual(epochs);
});

test("a removed member's GET /conversations/:id does not show who joined after their removal", async () => {
  const { carol, dave, group } = await removedThenChanged();
  const res = await f.call(carol, "GET", `/conversations/${group.id}`);
  expect(res.status).toBeLessThan(500);
  const members = ((res.json?.members as { userId: string }[] | undefined) ?? []).map(
    (m) => m.userId,
  );
  expect(members).not.toContain(dave.state.userId);
});

test("a removed member's sync gets no read positions moved after their removal", async () => {
  const { alice, bob, carol, group } = await f.groupOfThree();
  expectStatus((await f.sendText(alice, group.id, "one")).res, 201);
  expectStatus(await group.change(alice, { type: "remove", target: carol.state.userId }), 200);
  expectStatus((await f.sendText(alice, group.id, "two")).res, 201);
  expectStatus(await f.call(bob, "PUT", `/conversations/${group.id}/read`, { seq: 2 }), 204);

  const receipts = (await f.call(carol, "GET", "/sync")).json?.receipts as {
    conversationId: string;
    userId: string;
    readSeq: number;
  }[];
  const bobs = receipts.filter(
    (r) => r.conversationId === group.id && r.userId === bob.state.userId,
  );
  expect(bobs.map((r) => r.readSeq).filter((seq) => seq > 1)).toEqual([]);
});

test("a removed member's typing frames reach no one (error not_a_member)", async () => {
  const { alice, bob, carol, group } = await f.groupOfThree();
  expectStatus(await group.change(alice, { type: "remove", target: carol.state.userId }), 200);
  const [bobSocket, carolSocket] = await f.sockets(bob, carol);
  carolSocket.ws.send(JSON.stringify({ type: "typing", conversationId: group.id, typing: true }));
  await settle(carolSocket);
  await settle(bobSocket);
  expect(framesOf(bobSocket, "typing")).toEqual([]);
  expect(framesOf(carolSocket, "error").map((e) => e.code)).toEqual(["not_a_member"]);
});

test("a member removed and added again still reads what came before their removal, not what came while they were out", async () => {
  const { alice, carol, group } = await f.groupOfThree();
  const first = await f.sendText(alice, group.id, "while carol is in");
  expectStatus(await group.change(alice, { type: "remove", target: carol.state.userId }), 200);
  const missed = await f.sendText(alice, group.id, "while carol is out");
  expectStatus(
    await group.change(alice, { type: "add", target: carol.state.userId, role: "member" }),
    200,
  );
  const back = await f.sendText(alice, group.id, "carol is back");
  for (const s of [first, missed, back]) expectStatus(s.res, 201);

  const expected = [first.sealed.id, back.sealed.id];
  expect({
    history: await f.historyIds(carol, group.id),
    sync: await f.syncedIds(carol, group.id),
  }).toEqual({
    history: expected,
    sync: expected,
  });
});

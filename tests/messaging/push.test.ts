// Pushes after a send, through the real server with a recording PushNotifier: only the
// members with no connected device are notified, with the conversation as a hint and never
// the message; the sender's answer never waits for the notifier, and its failure is logged.
import { afterAll, beforeEach, expect, test } from "bun:test";
import type { PushHint, PushNotifier } from "../../server/domain/ports/push.ts";
import { eventually, expectStatus, frame, messagingFixture } from "./support.ts";

/** Records each call; `hold` makes calls wait until released, `fail` makes them throw. */
function recordingNotifier() {
  const calls: { userIds: string[]; hint: PushHint }[] = [];
  let hold: Promise<void> | undefined;
  let release = () => {};
  let fail = false;
  const notifier: PushNotifier = {
    async notify(userIds, hint) {
      calls.push({ userIds: [...userIds].sort(), hint });
      if (hold) await hold;
      if (fail) throw new Error("push service unreachable");
    },
  };
  return {
    notifier,
    calls,
    hold() {
      hold = new Promise((resolve) => {
        release = resolve;
      });
    },
    release: () => release(),
    failing: (value: boolean) => {
      fail = value;
    },
    reset() {
      calls.length = 0;
      hold = undefined;
      fail = false;
    },
  };
}

const push = recordingNotifier();
const f = await messagingFixture({}, { testPushNotifier: push.notifier });
afterAll(() => f.cleanup());
beforeEach(() => push.reset());

test("a group send notifies the members with no connected device, once, without content", async () => {
  const { alice, bob, carol, group } = await f.groupOfThree();
  const dave = await f.user();
  expectStatus(
    await group.change(alice, { type: "add", target: dave.state.userId, role: "member" }),
    200,
  );
  // Bob is online; carol and dave have no connected device; alice sends from her only one.
  const bobSocket = await f.socket(bob);
  const sent = await f.sendText(alice, group.id, "meet at the secret place at noon");
  expectStatus(sent.res, 201);
  await frame(bobSocket, "new_message");

  await eventually(() => push.calls.length === 1);
  const offline = [carol.state.userId, dave.state.userId].sort();
  expect(push.calls).toEqual([{ userIds: offline, hint: { conversationId: group.id } }]);
  // What the notifier gets names the conversation, nothing of the message.
  expect(Object.keys(push.calls[0]!.hint)).toEqual(["conversationId"]);
  const seen = JSON.stringify(push.calls);
  for (const secret of [sent.sealed.ciphertext, sent.sealed.id, "secret place", alice.state.userId])
    expect(seen).not.toContain(secret);

  push.reset();

  // The same id again stores nothing and pushes nothing; every member online: no push.
  const again = await f.call(alice, "POST", "/messages", sent.sealed);
  expectStatus(again, 200);
  const [carolSocket, daveSocket] = await f.sockets(carol, dave);
  const online = await f.sendText(alice, group.id, "everyone is here");
  expectStatus(online.res, 201);
  await frame(
    daveSocket,
    "new_message",
    (m) => (m.message as { id: string }).id === online.sealed.id,
  );
  await frame(
    carolSocket,
    "new_message",
    (m) => (m.message as { id: string }).id === online.sealed.id,
  );
  // The control: a push that does happen comes after any the two sends above would have made.
  carolSocket.ws.close();
  await carolSocket.closed();
  const last = await f.sendText(alice, group.id, "carol left");
  expectStatus(last.res, 201);
  await eventually(() => push.calls.length >= 1);
  await Bun.sleep(50);
  expect(push.calls).toEqual([
    { userIds: [carol.state.userId], hint: { conversationId: group.id } },
  ]);
});

test("a direct send pushes the offline peer, never the sender (not even their offline device)", async () => {
  const alice = await f.user();
  const bob = await f.user();
  await f.linkDevice(alice);
  const { conversationId } = await f.startDirect(alice, bob);
  await eventually(() => push.calls.length === 1);
  // Bob is offline; alice's laptop is too, but it is the sender's: never pushed here.
  expect(push.calls).toEqual([{ userIds: [bob.state.userId], hint: { conversationId } }]);
});

test("the answer does not wait for the notifier; a failing notifier is logged, the send stands", async () => {
  const alice = await f.user();
  const bob = await f.user();
  push.hold();
  push.failing(true);
  const { conversationId, seq } = await f.startDirect(alice, bob);
  expect(seq).toBe(1);
  // Answered while the notifier is still held.
  await eventually(() => push.calls.length === 1);
  push.release();
  const warned = () =>
    f.server.log
      .entries()
      .filter((e) => e.level === "warn" && e.msg === "push notification failed");
  await eventually(() => warned().length === 1);
  expect(JSON.stringify(warned())).not.toContain(conversationId);
  expect(await f.historyIds(bob, conversationId)).toHaveLength(1);
});

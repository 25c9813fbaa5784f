// Read positions: a user's "read up to" moves forward only, whichever way it is sent (the
// WebSocket frame, PUT /conversations/:id/read, PUT /messages/:id/read); the sender and the
// reader's other devices hear of each move; GET /conversations shows the positions.
import { afterAll, expect, test } from "bun:test";
import { expectError, expectStatus, frame, framesOf, messagingFixture, settle } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

/** Alice sent bob four messages; bob has a laptop and a phone. */
async function fourMessages() {
  const alice = await f.user();
  const bob = await f.user();
  const bobPhone = await f.linkDevice(bob);
  const { conversationId, sealed } = await f.startDirect(alice, bob, "one");
  const ids = [sealed.id];
  for (const text of ["two", "three", "four"]) {
    const sent = await f.sendText(alice, conversationId, text);
    expectStatus(sent.res, 201);
    ids.push(sent.sealed.id);
  }
  return { alice, bob, bobPhone, conversationId, ids };
}

const positions = async (u: Parameters<typeof f.call>[0], conversationId: string) => {
  const list = (await f.call(u, "GET", "/conversations")).json?.conversations as {
    conversationId: string;
  }[];
  return list.find((c) => c.conversationId === conversationId);
};

test("read positions move forward only (WS read, PUT /conversations/:id/read, PUT /messages/:id/read); the sender and the reader's other device get message_read_update", async () => {
  const { alice, bob, bobPhone, conversationId, ids } = await fourMessages();
  const [aliceSocket, bobSocket, phoneSocket] = await f.sockets(alice, bob, bobPhone);
  const updates = (s: typeof aliceSocket) =>
    framesOf(s, "message_read_update").map((x) => ({ userId: x.userId, seq: x.seq }));
  const bobAt = (seq: number) => ({ userId: bob.state.userId, seq });

  bobSocket.ws.send(JSON.stringify({ type: "read", conversationId, seq: 2 }));
  await frame(aliceSocket, "message_read_update", (x) => x.seq === 2);
  await frame(phoneSocket, "message_read_update", (x) => x.seq === 2);
  expect(await positions(bob, conversationId)).toMatchObject({ readSeq: 2 });

  // Backwards, by either route: nothing moves, no one is told.
  expectStatus(await f.call(bob, "PUT", `/conversations/${conversationId}/read`, { seq: 1 }), 204);
  expectStatus(await f.call(bobPhone, "PUT", `/messages/${ids[0]}/read`), 204);
  expect(await positions(bob, conversationId)).toMatchObject({ readSeq: 2 });

  // Forward through the message route, then through the conversation route.
  expectStatus(await f.call(bobPhone, "PUT", `/messages/${ids[2]}/read`), 204);
  expect(await positions(bob, conversationId)).toMatchObject({ readSeq: 3 });
  expectStatus(await f.call(bob, "PUT", `/conversations/${conversationId}/read`, { seq: 4 }), 204);
  expect(await positions(bob, conversationId)).toMatchObject({ readSeq: 4 });

  for (const s of [aliceSocket, phoneSocket]) await settle(s);
  expect(updates(aliceSocket)).toEqual([bobAt(2), bobAt(3), bobAt(4)]);
  expect(updates(phoneSocket)).toEqual([bobAt(2), bobAt(3), bobAt(4)]);
});

test("a read position past the newest message stops at it", async () => {
  const { bob, conversationId } = await fourMessages();
  expectStatus(
    await f.call(bob, "PUT", `/conversations/${conversationId}/read`, { seq: 1000 }),
    204,
  );
  expect(await positions(bob, conversationId)).toMatchObject({ lastSeq: 4, readSeq: 4 });
});

test("GET /conversations shows lastSeq, readSeq and deliveredSeq; reading implies delivered", async () => {
  const { alice, bob, conversationId } = await fourMessages();
  expect(await positions(bob, conversationId)).toMatchObject({
    conversationId,
    kind: "direct",
    lastSeq: 4,
    readSeq: 0,
    deliveredSeq: 0,
  });
  expectStatus(
    await f.call(bob, "PUT", `/conversations/${conversationId}/delivered`, { seq: 3 }),
    204,
  );
  expect(await positions(bob, conversationId)).toMatchObject({ readSeq: 0, deliveredSeq: 3 });
  expectStatus(await f.call(bob, "PUT", `/conversations/${conversationId}/read`, { seq: 4 }), 204);
  expect(await positions(bob, conversationId)).toMatchObject({ readSeq: 4, deliveredSeq: 4 });
  // Alice's own positions are hers: bob's reading does not move them.
  expect(await positions(alice, conversationId)).toMatchObject({
    lastSeq: 4,
    readSeq: 0,
    deliveredSeq: 0,
  });
});

test("PUT /messages/:id/read for an unknown message, or one in a conversation the user is not in → 404 message_not_found", async () => {
  const { ids } = await fourMessages();
  const mallory = await f.user();
  expectError(await f.call(mallory, "PUT", `/messages/${ids[0]}/read`), 404, "message_not_found");
  expectError(
    await f.call(mallory, "PUT", `/messages/${f.newId()}/read`),
    404,
    "message_not_found",
  );
});

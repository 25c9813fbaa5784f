// The WebSocket frames a client sends: `send` answers `sent` once the message is stored; a bad
// frame answers an `error` frame with a catalogue code (and `ref`, the frame's id, when it had
// one) and the connection stays open; `typing` reaches the other member's devices only.
import { afterAll, describe, expect, test } from "bun:test";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import { frame, framesOf, messagingFixture, settle } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

test("a send frame → sent {id, seq} after the message is stored; the recipient gets new_message", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const [aliceSocket, bobSocket] = await f.sockets(alice, bob);
  const conversationId = directConversationId(alice.state.userId, bob.state.userId);
  const sealed = await f.sealText(alice, conversationId, "over the socket");

  aliceSocket.ws.send(JSON.stringify({ type: "send", ...sealed, peerUserId: bob.state.userId }));
  const sent = await frame(aliceSocket, "sent");
  expect(sent).toMatchObject({ id: sealed.id, conversationId, seq: 1, duplicate: false });
  expect(f.rows("SELECT seq FROM messages WHERE id = ?", sealed.id)).toEqual([{ seq: 1 }]);
  expect((await frame(bobSocket, "new_message")).message).toMatchObject({
    id: sealed.id,
    ciphertext: sealed.ciphertext,
  });

  // The same frame again is a duplicate with the same sequence.
  aliceSocket.ws.send(JSON.stringify({ type: "send", ...sealed }));
  expect(await frame(aliceSocket, "sent", (x) => x.duplicate === true)).toMatchObject({
    id: sealed.id,
    seq: 1,
  });
});

describe("bad frames answer an error frame and keep the connection open", () => {
  const cases: { name: string; raw: string; code: string; ref?: boolean; field?: string }[] = [
    { name: "an unknown type", raw: JSON.stringify({ type: "teleport" }), code: "invalid_request" },
    { name: "no type", raw: JSON.stringify({ seq: 1 }), code: "invalid_request" },
    {
      name: "a send with a numeric ciphertext",
      raw: "",
      code: "invalid_request",
      ref: true,
      field: "ciphertext",
    },
    {
      name: "a read with a string seq",
      raw: JSON.stringify({ type: "read", conversationId: crypto.randomUUID(), seq: "3" }),
      code: "invalid_request",
      field: "seq",
    },
    {
      name: "a typing frame with a conversation id that is not a UUID",
      raw: JSON.stringify({ type: "typing", conversationId: "nope", typing: true }),
      code: "invalid_request",
      field: "conversationId",
    },
    { name: "a JSON array", raw: "[1,2,3]", code: "malformed_body" },
    { name: "a JSON number", raw: "42", code: "malformed_body" },
    { name: "text that is not JSON", raw: "hello server", code: "malformed_body" },
    { name: "broken JSON", raw: '{"type": "send", ', code: "malformed_body" },
  ];

  for (const c of cases) {
    test(`${c.name} → error ${c.code}${c.ref ? " with ref" : ""}`, async () => {
      const alice = await f.user();
      const bob = await f.user();
      const socket = await f.socket(alice);
      let raw = c.raw;
      let id: string | undefined;
      if (!raw) {
        const conversationId = directConversationId(alice.state.userId, bob.state.userId);
        const sealed = await f.sealText(alice, conversationId, "x");
        id = sealed.id;
        raw = JSON.stringify({ type: "send", ...sealed, ciphertext: 12345 });
      }
      socket.ws.send(raw);
      const error = await frame(socket, "error");
      expect(error.code).toBe(c.code);
      expect(typeof error.message).toBe("string");
      if (c.ref) expect(error.ref).toBe(id as string);
      if (c.field) expect(error.details).toEqual({ field: c.field });
      // Still open: a ping is answered.
      await settle(socket);
      expect(socket.closeInfo).toBeUndefined();
    });
  }

  test("a send a member may not make → error not_a_member with ref = the frame's id", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const mallory = await f.user();
    const { conversationId } = await f.startDirect(alice, bob);
    const socket = await f.socket(mallory);
    const sealed = await f.sealText(mallory, conversationId, "let me in");
    socket.ws.send(JSON.stringify({ type: "send", ...sealed }));
    expect(await frame(socket, "error")).toMatchObject({ code: "not_a_member", ref: sealed.id });
    await settle(socket);
  });
});

test("typing frames reach the other member's devices only, never the typist's own", async () => {
  const alice = await f.user();
  const alicePhone = await f.linkDevice(alice);
  const bob = await f.user();
  const bobPhone = await f.linkDevice(bob);
  const carol = await f.user();
  const { conversationId } = await f.startDirect(alice, bob);
  const [aliceSocket, alicePhoneSocket, bobSocket, bobPhoneSocket, carolSocket] = await f.sockets(
    alice,
    alicePhone,
    bob,
    bobPhone,
    carol,
  );

  aliceSocket.ws.send(JSON.stringify({ type: "typing", conversationId, typing: true }));
  const expected = {
    conversationId,
    userId: alice.state.userId,
    deviceId: alice.state.deviceId,
    typing: true,
  };
  expect(await frame(bobSocket, "typing")).toMatchObject(expected);
  expect(await frame(bobPhoneSocket, "typing")).toMatchObject(expected);
  for (const s of [aliceSocket, alicePhoneSocket, carolSocket]) await settle(s);
  expect(framesOf(aliceSocket, "typing")).toEqual([]);
  expect(framesOf(alicePhoneSocket, "typing")).toEqual([]);
  expect(framesOf(carolSocket, "typing")).toEqual([]);
  // Never stored.
  expect(f.rows("SELECT id FROM messages WHERE conversation_id = ?", conversationId)).toHaveLength(
    1,
  );

  // A non-member's typing frame reaches no one and answers an error.
  carolSocket.ws.send(JSON.stringify({ type: "typing", conversationId, typing: true }));
  expect((await frame(carolSocket, "error")).code).toBe("not_a_member");
  await settle(bobSocket);
  expect(framesOf(bobSocket, "typing")).toHaveLength(1);
});

test("a blocked user's typing frames do not reach the user who blocked them", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const { conversationId } = await f.startDirect(alice, bob);
  expect(
    (await f.call(bob, "PUT", `/contacts/${alice.state.userId}`, { blocked: true })).status,
  ).toBeLessThan(300);
  const [aliceSocket, bobSocket] = await f.sockets(alice, bob);
  aliceSocket.ws.send(JSON.stringify({ type: "typing", conversationId, typing: true }));
  await settle(aliceSocket);
  await settle(bobSocket);
  expect(framesOf(bobSocket, "typing")).toEqual([]);
});

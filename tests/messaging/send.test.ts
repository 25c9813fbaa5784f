// Sending over HTTP: a direct conversation starts with its first message, a retry is stored
// once, the message reaches every device of the members but the sending one, and the server
// refuses what its clear view shows to be wrong (header, membership, block, size, expiry).
import { afterAll, describe, expect, test } from "bun:test";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import { expectError, expectStatus, frame, framesOf, messagingFixture, settle } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

describe("a 1:1 message over HTTP", () => {
  test("the first message (with peerUserId) is stored as seq 1; a retry with the same id and Idempotency-Key answers 200 duplicate with the same seq and is stored once", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const conversationId = directConversationId(alice.state.userId, bob.state.userId);
    const sealed = await f.sealText(alice, conversationId, "hello bob");
    const body = { ...sealed, peerUserId: bob.state.userId };

    const first = await f.call(alice, "POST", "/messages", body, { "idempotency-key": sealed.id });
    expectStatus(first, 201);
    expect(first.json).toMatchObject({ id: sealed.id, conversationId, seq: 1, duplicate: false });

    const retry = await f.call(alice, "POST", "/messages", body, { "idempotency-key": sealed.id });
    expectStatus(retry, 200);
    expect(retry.json).toEqual({ ...first.json, duplicate: true });

    const rows = f.rows<{ seq: number }>(
      "SELECT seq FROM messages WHERE conversation_id = ?",
      conversationId,
    );
    expect(rows).toEqual([{ seq: 1 }]);
  });

  test("the recipient's socket and the sender's other device get new_message with the ciphertext; the sending device does not", async () => {
    const alice = await f.user();
    const alicePhone = await f.linkDevice(alice);
    const bob = await f.user();
    const [aliceSocket, phoneSocket, bobSocket] = await f.sockets(alice, alicePhone, bob);

    const { sealed, conversationId } = await f.startDirect(alice, bob, "hi");
    const expected = {
      id: sealed.id,
      conversationId,
      seq: 1,
      senderUserId: alice.state.userId,
      senderDeviceId: alice.state.deviceId,
      ciphertext: sealed.ciphertext,
    };
    expect((await frame(bobSocket, "new_message")).message).toMatchObject(expected);
    expect((await frame(phoneSocket, "new_message")).message).toMatchObject(expected);
    await settle(aliceSocket);
    expect(framesOf(aliceSocket, "new_message")).toEqual([]);
  });
});

describe("refused sends", () => {
  test("a ciphertext whose clear header names another conversation, sender device or message id → 400 naming body.ciphertext", async () => {
    const alice = await f.user();
    const alicePhone = await f.linkDevice(alice);
    const bob = await f.user();
    const carol = await f.user();
    const { conversationId } = await f.startDirect(alice, bob);
    const otherConversation = directConversationId(alice.state.userId, carol.state.userId);

    const forOther = await f.sealText(alice, otherConversation, "elsewhere");
    const fromPhone = await f.sealText(alice, conversationId, "from the phone", {
      senderDeviceId: alicePhone.state.deviceId,
    });
    const underOtherId = await f.sealText(alice, conversationId, "other id");
    const bodies = {
      "another conversation": { ...forOther, conversationId },
      "another sender device": fromPhone,
      "another message id": { ...underOtherId, id: f.newId() },
    };
    for (const [name, body] of Object.entries(bodies)) {
      const res = await f.call(alice, "POST", "/messages", body);
      expect({ name, status: res.status, json: res.json }).toMatchObject({
        name,
        status: 400,
        json: { code: "invalid_request", details: { field: "body.ciphertext" } },
      });
    }
    // None of them was stored.
    expect(f.rows("SELECT seq FROM messages WHERE conversation_id = ?", conversationId)).toEqual([
      { seq: 1 },
    ]);
  });

  test("a non-member can neither send to nor read the history of a direct conversation (403 not_a_member)", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const mallory = await f.user();
    const { conversationId } = await f.startDirect(alice, bob);

    const sealed = await f.sealText(mallory, conversationId, "let me in");
    expectError(await f.call(mallory, "POST", "/messages", sealed), 403, "not_a_member");
    // Naming himself as the peer does not make him one either.
    const asPeer = await f.sealText(mallory, conversationId, "let me in");
    const peer = await f.call(mallory, "POST", "/messages", {
      ...asPeer,
      peerUserId: bob.state.userId,
    });
    expect(peer.status).toBeGreaterThanOrEqual(400);
    expect(peer.status).toBeLessThan(500);
    expectError(
      await f.call(mallory, "GET", `/conversations/${conversationId}/messages`),
      403,
      "not_a_member",
    );
  });

  test("a sender the recipient blocked → 403 blocked, on the first message and after", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const carol = await f.user();
    const { conversationId } = await f.startDirect(alice, bob);
    for (const [blocker, blocked] of [
      [bob, alice],
      [carol, alice],
    ] as const) {
      const res = await f.call(blocker, "PUT", `/contacts/${blocked.state.userId}`, {
        blocked: true,
      });
      expect(res.status).toBeLessThan(300);
    }

    const sealed = await f.sealText(alice, conversationId, "are you there?");
    expectError(await f.call(alice, "POST", "/messages", sealed), 403, "blocked");
    const toCarol = directConversationId(alice.state.userId, carol.state.userId);
    const first = await f.sealText(alice, toCarol, "hello carol");
    expectError(
      await f.call(alice, "POST", "/messages", { ...first, peerUserId: carol.state.userId }),
      403,
      "blocked",
    );
    // Bob can still write to alice: the block is one way.
    const answer = await f.sealText(bob, conversationId, "I blocked you");
    expectStatus(await f.call(bob, "POST", "/messages", answer), 201);
  });

  test("expiresAt in the past → 400 naming body.expiresAt", async () => {
    const alice = await f.user();
    const bob = await f.user();
    const { conversationId } = await f.startDirect(alice, bob);
    const sealed = await f.sealText(alice, conversationId, "gone already");
    expectError(
      await f.call(alice, "POST", "/messages", { ...sealed, expiresAt: Date.now() - 1000 }),
      400,
      "invalid_request",
      "body.expiresAt",
    );
  });

  test("a ciphertext over messages.max_ciphertext_bytes → 413 payload_too_large naming body.ciphertext", async () => {
    const small = await messagingFixture({ PARLEY_MESSAGES_MAX_CIPHERTEXT_BYTES: "1024" });
    try {
      const alice = await small.user();
      const bob = await small.user();
      const conversationId = directConversationId(alice.state.userId, bob.state.userId);
      const fits = await small.sealText(alice, conversationId, "short");
      expectStatus(
        await small.call(alice, "POST", "/messages", { ...fits, peerUserId: bob.state.userId }),
        201,
      );
      const big = await small.sealText(alice, conversationId, "x".repeat(2000));
      expectError(
        await small.call(alice, "POST", "/messages", big),
        413,
        "payload_too_large",
        "body.ciphertext",
      );
    } finally {
      await small.cleanup();
    }
  });
});

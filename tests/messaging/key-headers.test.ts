// Key headers: each is stored for one recipient device and reaches that device only (live,
// in history, in sync) until the device acknowledges delivery, when it is deleted and the
// sender hears the message was delivered. The headers here are structurally valid only
// (support.ts structuralKeyHeader): the server reads their clear prefix and nothing else.
import { afterAll, expect, test } from "bun:test";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import {
  expectError,
  expectStatus,
  frame,
  messagingFixture,
  settle,
  structuralKeyHeader,
} from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

/** Alice, and bob with two devices; alice's first message carries a header for bob's laptop. */
async function headerForLaptop() {
  const alice = await f.user();
  const bobLaptop = await f.user();
  const bobPhone = await f.linkDevice(bobLaptop);
  const conversationId = directConversationId(alice.state.userId, bobLaptop.state.userId);
  const header = structuralKeyHeader(f.ctx, bobLaptop.state);
  const sealed = await f.sealText(alice, conversationId, "with a key");
  return { alice, bobLaptop, bobPhone, conversationId, header, sealed };
}

const headerRows = (deviceId: string) =>
  f.rows("SELECT message_pos FROM key_headers WHERE device_id = ?", deviceId);

test("a key header for the recipient's device reaches that device only: in new_message, in history and in sync", async () => {
  const { alice, bobLaptop, bobPhone, conversationId, header, sealed } = await headerForLaptop();
  const [laptop, phone] = await f.sockets(bobLaptop, bobPhone);

  const res = await f.call(alice, "POST", "/messages", {
    ...sealed,
    peerUserId: bobLaptop.state.userId,
    keyHeaders: [{ deviceId: bobLaptop.state.deviceId, header }],
  });
  expectStatus(res, 201);

  expect((await frame(laptop, "new_message")).message).toMatchObject({
    id: sealed.id,
    keyHeader: header,
  });
  const onPhone = (await frame(phone, "new_message")).message as Record<string, unknown>;
  expect(onPhone.id).toBe(sealed.id);
  expect(onPhone).not.toHaveProperty("keyHeader");

  const history = async (u: typeof bobLaptop) =>
    (await f.call(u, "GET", `/conversations/${conversationId}/messages`)).json?.messages as {
      keyHeader?: string;
    }[];
  expect((await history(bobLaptop))[0]?.keyHeader).toBe(header);
  expect((await history(bobPhone))[0]).not.toHaveProperty("keyHeader");
  expect((await history(alice))[0]).not.toHaveProperty("keyHeader");

  const synced = async (u: typeof bobLaptop) =>
    (
      ((await f.call(u, "GET", "/sync")).json?.messages ?? []) as {
        id: string;
        keyHeader?: string;
      }[]
    ).find((m) => m.id === sealed.id);
  expect((await synced(bobLaptop))?.keyHeader).toBe(header);
  expect(await synced(bobPhone)).not.toHaveProperty("keyHeader");
});

test("a key header for a device of someone who is not a member → 400 naming body.keyHeaders, nothing stored", async () => {
  const { alice, bobLaptop, conversationId, sealed } = await headerForLaptop();
  const stranger = await f.user();
  const res = await f.call(alice, "POST", "/messages", {
    ...sealed,
    peerUserId: bobLaptop.state.userId,
    keyHeaders: [
      { deviceId: stranger.state.deviceId, header: structuralKeyHeader(f.ctx, stranger.state) },
    ],
  });
  expectError(res, 400, "invalid_request", "body.keyHeaders");
  expect(f.rows("SELECT id FROM messages WHERE conversation_id = ?", conversationId)).toEqual([]);
  expect(headerRows(stranger.state.deviceId)).toEqual([]);
});

test("a key header listed for one device but naming another in its clear prefix → 400 naming that header", async () => {
  const { alice, bobLaptop, bobPhone, sealed } = await headerForLaptop();
  const res = await f.call(alice, "POST", "/messages", {
    ...sealed,
    peerUserId: bobLaptop.state.userId,
    keyHeaders: [
      { deviceId: bobPhone.state.deviceId, header: structuralKeyHeader(f.ctx, bobLaptop.state) },
    ],
  });
  expectError(res, 400, "invalid_request", "body.keyHeaders.0");
});

test("after the device acknowledges delivery over the WebSocket, its header is gone and the sender's socket gets message_delivered", async () => {
  const { alice, bobLaptop, bobPhone, conversationId, header, sealed } = await headerForLaptop();
  const aliceSocket = await f.socket(alice);
  const laptop = await f.socket(bobLaptop);
  expectStatus(
    await f.call(alice, "POST", "/messages", {
      ...sealed,
      peerUserId: bobLaptop.state.userId,
      keyHeaders: [
        { deviceId: bobLaptop.state.deviceId, header },
        { deviceId: bobPhone.state.deviceId, header: structuralKeyHeader(f.ctx, bobPhone.state) },
      ],
    }),
    201,
  );
  expect(headerRows(bobLaptop.state.deviceId)).toHaveLength(1);

  laptop.ws.send(JSON.stringify({ type: "delivered", conversationId, seq: 1 }));
  expect(await frame(aliceSocket, "message_delivered")).toMatchObject({
    conversationId,
    userId: bobLaptop.state.userId,
    seq: 1,
  });
  expect(headerRows(bobLaptop.state.deviceId)).toEqual([]);
  // Only the acknowledging device's header goes: the phone has not fetched its copy yet.
  expect(headerRows(bobPhone.state.deviceId)).toHaveLength(1);
  const history = await f.call(bobLaptop, "GET", `/conversations/${conversationId}/messages`);
  expect(((history.json?.messages ?? []) as object[])[0]).not.toHaveProperty("keyHeader");
});

test("after PUT /conversations/:id/delivered the header is gone and the sender's socket gets message_delivered", async () => {
  const { alice, bobLaptop, conversationId, header, sealed } = await headerForLaptop();
  const aliceSocket = await f.socket(alice);
  expectStatus(
    await f.call(alice, "POST", "/messages", {
      ...sealed,
      peerUserId: bobLaptop.state.userId,
      keyHeaders: [{ deviceId: bobLaptop.state.deviceId, header }],
    }),
    201,
  );
  expectStatus(
    await f.call(bobLaptop, "PUT", `/conversations/${conversationId}/delivered`, { seq: 1 }),
    204,
  );
  expect(await frame(aliceSocket, "message_delivered")).toMatchObject({
    conversationId,
    userId: bobLaptop.state.userId,
    seq: 1,
  });
  expect(headerRows(bobLaptop.state.deviceId)).toEqual([]);
  const synced = await f.call(bobLaptop, "GET", "/sync");
  const message = ((synced.json?.messages ?? []) as { id: string }[]).find(
    (m) => m.id === sealed.id,
  );
  expect(message).toBeDefined();
  expect(message).not.toHaveProperty("keyHeader");

  // A second acknowledgement of the same position moves nothing and tells no one.
  const before = aliceSocket.frames.length;
  expectStatus(
    await f.call(bobLaptop, "PUT", `/conversations/${conversationId}/delivered`, { seq: 1 }),
    204,
  );
  await settle(aliceSocket);
  expect(aliceSocket.frames.slice(before).map((x) => x.type)).toEqual(["pong"]);
});

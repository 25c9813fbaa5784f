// The server never holds a message's plaintext: a text whose body is a random canary is sent
// (HTTP and WebSocket), delivered, read and synced, and no spelling of the canary appears in
// any file of the data directory or in the log (debug level), while running or after shutdown.
import { afterAll, expect, test } from "bun:test";
import { toHex, utf8 } from "../../protocol/crypto/bytes.ts";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import { filesUnder, findLeaks } from "../support/leaks.ts";
import { expectStatus, frame, messagingFixture } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

test("a canary text sent and delivered never reaches the data directory or the log, during the run and after shutdown", async () => {
  const canary = `canary-${toHex(f.ctx.rng(16))}`;
  const canaryOverSocket = `canary-${toHex(f.ctx.rng(16))}`;
  const secrets = { canary: utf8(canary), canaryOverSocket: utf8(canaryOverSocket) };
  const alice = await f.user();
  const bob = await f.user();
  const [aliceSocket, bobSocket] = await f.sockets(alice, bob);
  const conversationId = directConversationId(alice.state.userId, bob.state.userId);

  const sealed = await f.sealText(alice, conversationId, canary);
  expectStatus(
    await f.call(alice, "POST", "/messages", { ...sealed, peerUserId: bob.state.userId }),
    201,
  );
  const overSocket = await f.sealText(alice, conversationId, canaryOverSocket);
  aliceSocket.ws.send(JSON.stringify({ type: "send", ...overSocket }));
  await frame(aliceSocket, "sent");
  await frame(bobSocket, "new_message", (x) => (x.message as { seq: number }).seq === 2);

  bobSocket.ws.send(JSON.stringify({ type: "delivered", conversationId, seq: 2 }));
  await frame(aliceSocket, "message_delivered");
  expectStatus(await f.call(bob, "PUT", `/conversations/${conversationId}/read`, { seq: 2 }), 204);
  expectStatus(await f.call(bob, "GET", "/sync"), 200);
  expectStatus(await f.call(bob, "GET", `/conversations/${conversationId}/messages`), 200);

  const places = () => [
    ...filesUnder(f.server.dataDir),
    { path: "log", bytes: utf8(f.server.log.text()) },
  ];
  // The check itself works: the canary is found where it is.
  expect(findLeaks(secrets, [{ path: "probe", bytes: utf8(`x${canary}y`) }])).toEqual([
    "canary in probe",
  ]);
  expect(findLeaks(secrets, places())).toEqual([]);

  for (const s of [aliceSocket, bobSocket]) s.ws.close();
  await f.server.server.shutdown("canary test");
  expect(findLeaks(secrets, places())).toEqual([]);
});

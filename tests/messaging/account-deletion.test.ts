// Deleting an account (DELETE /api/v1/account) takes its devices' inboxes and key headers
// with it, ends its sockets, and the user is no one's recipient any more: a direct send to
// them is refused, and their groups no longer count them among the members messages reach.
import { afterAll, expect, test } from "bun:test";
import { toBase64Url } from "../../protocol/api/base64.ts";
import type { TestUser } from "../support/accounts.ts";
import { expectError, expectStatus, messagingFixture, structuralKeyHeader } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

/** Bob, with two devices, in a direct conversation and a group with alice; then deleted. */
async function deletedBob() {
  const alice = await f.user();
  const bob = await f.user();
  const bobPhone = await f.linkDevice(bob);
  const direct = await f.startDirect(alice, bob, "hi bob");
  const group = await f.group(alice);
  expectStatus(
    await group.change(alice, { type: "add", target: bob.state.userId, role: "member" }),
    200,
  );
  const withHeader = await f.sealText(alice, group.id, "a key for bob");
  expectStatus(
    await f.call(alice, "POST", "/messages", {
      ...withHeader,
      keyHeaders: [{ deviceId: bob.state.deviceId, header: structuralKeyHeader(f.ctx, bob.state) }],
    }),
    201,
  );
  expectStatus(
    await f.call(alice, "POST", "/to-device", {
      envelopes: [bob, bobPhone].map((u) => ({
        deviceId: u.state.deviceId,
        envelope: toBase64Url(f.ctx.rng(32)),
      })),
    }),
    201,
  );
  const socket = await f.socket(bobPhone);
  const devices = [bob.state.deviceId, bobPhone.state.deviceId];
  const rows = (table: "inbox" | "key_headers") =>
    f.rows(`SELECT device_id FROM ${table} WHERE device_id IN (?, ?)`, ...devices);
  expect(rows("inbox")).toHaveLength(2);
  expect(rows("key_headers")).toHaveLength(1);

  expectStatus(await f.call(bob, "DELETE", "/account"), 204);
  return { alice, bob, bobPhone, direct, group, socket, rows };
}

const memberIds = async (u: TestUser, conversationId: string) => {
  const res = await f.call(u, "GET", `/conversations/${conversationId}`);
  expectStatus(res, 200);
  return ((res.json?.members ?? []) as { userId: string }[]).map((m) => m.userId);
};

test("deleting bob's account empties his devices' inboxes and key headers and closes his sockets (4003 revoked)", async () => {
  const { socket, rows } = await deletedBob();
  expect(rows("inbox")).toEqual([]);
  expect(rows("key_headers")).toEqual([]);
  expect((await socket.closed()).code).toBe(4003);
});

test("alice's send to the direct conversation with deleted bob → 403 not_a_member, nothing stored", async () => {
  const { alice, direct } = await deletedBob();
  const sealed = await f.sealText(alice, direct.conversationId, "are you there?");
  expectError(await f.call(alice, "POST", "/messages", sealed), 403, "not_a_member");
  expect(
    f.rows("SELECT seq FROM messages WHERE conversation_id = ?", direct.conversationId),
  ).toEqual([{ seq: 1 }]);
});

test("deleted bob is no longer among his group's members that messages fan out to; alice still posts there", async () => {
  const { alice, bob, group } = await deletedBob();
  expectStatus((await f.sendText(alice, group.id, "still here")).res, 201);
  expect(await memberIds(alice, group.id)).not.toContain(bob.state.userId);
});

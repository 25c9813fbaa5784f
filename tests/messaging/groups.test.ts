// Groups through the API: created and changed only by signed membership log entries the
// server verifies as clients do (the actor's own key, the next epoch, the rules); what a
// member may read follows when they were in the group; announcements-only limits posting.
import { afterAll, describe, expect, test } from "bun:test";
import { toBase64Url } from "../../protocol/api/base64.ts";
import type { ConversationId } from "../../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import { encodeMembershipEntry } from "../../protocol/identity/membership-entry.ts";
import { createMembershipLog } from "../../protocol/identity/membership-log.ts";
import { expectError, expectStatus, frame, framesOf, messagingFixture, settle } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

describe("creating and changing a group", () => {
  test("alice creates a group and adds bob then carol: each member before and after a change gets membership_changed with the signed entry", async () => {
    const [alice, bob, carol] = [await f.user(), await f.user(), await f.user()];
    const [aliceSocket, bobSocket, carolSocket] = await f.sockets(alice, bob, carol);
    const group = await f.group(alice);
    expectStatus(
      await group.change(alice, { type: "add", target: bob.state.userId, role: "member" }),
      200,
    );
    expectStatus(
      await group.change(alice, { type: "add", target: carol.state.userId, role: "admin" }),
      200,
    );

    const changes = (s: typeof aliceSocket) =>
      framesOf(s, "membership_changed").map((x) => ({
        c: x.conversationId,
        epoch: x.epoch,
        entry: x.entry,
      }));
    const at = (epoch: number) => ({ c: group.id, epoch, entry: group.entries[epoch] });
    await frame(carolSocket, "membership_changed");
    for (const s of [aliceSocket, bobSocket, carolSocket]) await settle(s);
    expect(changes(aliceSocket)).toEqual([at(1), at(2)]);
    expect(changes(bobSocket)).toEqual([at(1), at(2)]);
    expect(changes(carolSocket)).toEqual([at(2)]);

    const res = await f.call(bob, "GET", `/conversations/${group.id}`);
    expectStatus(res, 200);
    expect(res.json).toMatchObject({ conversationId: group.id, kind: "group", membershipEpoch: 2 });
    const roles = Object.fromEntries(
      ((res.json?.members ?? []) as { userId: string; role: string }[]).map((m) => [
        m.userId,
        m.role,
      ]),
    );
    expect(roles).toEqual({
      [alice.state.userId]: "owner",
      [bob.state.userId]: "member",
      [carol.state.userId]: "admin",
    });
  });

  test("GET /conversations/:id/membership returns the signed entries in log order (after= skips the first ones)", async () => {
    const { bob, group } = await f.groupOfThree();
    const all = await f.call(bob, "GET", `/conversations/${group.id}/membership`);
    expectStatus(all, 200);
    expect(all.json?.entries).toEqual(group.entries);
    const tail = await f.call(bob, "GET", `/conversations/${group.id}/membership?after=0`);
    expect(tail.json?.entries).toEqual(group.entries.slice(1));
    const stranger = await f.user();
    expectError(
      await f.call(stranger, "GET", `/conversations/${group.id}/membership`),
      403,
      "not_a_member",
    );
  });

  test("a member (not an admin) adding someone → 403 forbidden", async () => {
    const { bob, group } = await f.groupOfThree();
    const dave = await f.user();
    const entry = await group.signed(bob, {
      actor: bob.state.userId,
      action: { type: "add", target: dave.state.userId, role: "member" },
    });
    expectError(
      await f.call(bob, "POST", `/conversations/${group.id}/membership`, { entry }),
      403,
      "forbidden",
    );
  });

  test("an entry for the actor signed by another account key is refused with a 4xx (membership_log_invalid)", async () => {
    const { alice, bob, group } = await f.groupOfThree();
    const dave = await f.user();
    const entry = await group.signed(bob, {
      actor: alice.state.userId,
      action: { type: "add", target: dave.state.userId, role: "member" },
    });
    const res = await f.call(alice, "POST", `/conversations/${group.id}/membership`, { entry });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expectError(res, 409, "membership_log_invalid");
    // Posted by bob instead, it names another actor than the poster.
    const byBob = await f.call(bob, "POST", `/conversations/${group.id}/membership`, { entry });
    expectError(byBob, 400, "invalid_request", "body.entry");
  });

  test("an entry at a stale epoch (another change came first) → 409 stale_membership", async () => {
    const { alice, carol, group } = await f.groupOfThree();
    const [dave, erin] = [await f.user(), await f.user()];
    // Both signed on the same state: the first one in wins.
    const first = await group.signed(alice, {
      actor: alice.state.userId,
      action: { type: "add", target: dave.state.userId, role: "member" },
    });
    const second = await group.signed(alice, {
      actor: alice.state.userId,
      action: { type: "add", target: erin.state.userId, role: "member" },
    });
    expectStatus(
      await f.call(alice, "POST", `/conversations/${group.id}/membership`, { entry: first }),
      200,
    );
    expectError(
      await f.call(alice, "POST", `/conversations/${group.id}/membership`, { entry: second }),
      409,
      "stale_membership",
    );
    // An epoch already taken is stale too.
    const old = await group.signed(alice, {
      actor: alice.state.userId,
      epoch: 1,
      action: { type: "remove", target: carol.state.userId },
    });
    expectError(
      await f.call(alice, "POST", `/conversations/${group.id}/membership`, { entry: old }),
      409,
      "stale_membership",
    );
  });

  test("a group id that is not a UUIDv7 → 400; the same id twice → 409 conversation_exists", async () => {
    const alice = await f.user();
    const key = asAccountSecretKey(alice.state.accountKeyPair.secretKey);
    const create = async (id: string) => {
      const { entry } = await createMembershipLog(f.ctx, key, {
        conversationId: id as ConversationId,
        actor: alice.state.userId,
      });
      return f.call(alice, "POST", "/conversations", {
        id,
        entry: toBase64Url(encodeMembershipEntry(entry)),
      });
    };
    expectError(await create(crypto.randomUUID()), 400, "invalid_request", "body.id");
    const id = f.newId();
    expectStatus(await create(id), 201);
    expectError(await create(id), 409, "conversation_exists");
  });
});

describe("who reads and who posts", () => {
  test("a removed member can no longer send (403) nor read what came after, but still reads what came before", async () => {
    const { alice, carol, group } = await f.groupOfThree();
    const before = await f.sendText(alice, group.id, "before carol left");
    expectStatus(before.res, 201);
    expectStatus(await group.change(alice, { type: "remove", target: carol.state.userId }), 200);
    const after = await f.sendText(alice, group.id, "after carol left");
    expectStatus(after.res, 201);

    const sealed = await f.sealText(carol, group.id, "still here?");
    expectError(await f.call(carol, "POST", "/messages", sealed), 403, "not_a_member");
    expect(await f.historyIds(carol, group.id)).toEqual([before.sealed.id]);
    expect(await f.syncedIds(carol, group.id)).toEqual([before.sealed.id]);
    expect(await f.historyIds(alice, group.id)).toEqual([before.sealed.id, after.sealed.id]);
  });

  test("a new member gets nothing from before joining (history and sync), and everything after", async () => {
    const { alice, bob, group } = await f.groupOfThree();
    const early = [
      await f.sendText(alice, group.id, "one"),
      await f.sendText(bob, group.id, "two"),
    ];
    for (const e of early) expectStatus(e.res, 201);
    const dave = await f.user();
    expectStatus(
      await group.change(alice, { type: "add", target: dave.state.userId, role: "member" }),
      200,
    );
    expect(await f.historyIds(dave, group.id)).toEqual([]);
    expect(await f.syncedIds(dave, group.id)).toEqual([]);

    const later = await f.sendText(bob, group.id, "welcome dave");
    expectStatus(later.res, 201);
    expect(await f.historyIds(dave, group.id)).toEqual([later.sealed.id]);
    expect(await f.syncedIds(dave, group.id)).toEqual([later.sealed.id]);
  });

  test("announcements-only: a member's send → 403 posting_restricted, an admin's goes through", async () => {
    const { alice, bob, carol, group } = await f.groupOfThree();
    expectStatus(
      await group.change(alice, { type: "set-role", target: carol.state.userId, role: "admin" }),
      200,
    );
    expectStatus(await group.change(alice, { type: "set-announcements-only", enabled: true }), 200);
    const list = (await f.call(bob, "GET", "/conversations")).json?.conversations as {
      conversationId: string;
      announcementsOnly: boolean;
    }[];
    expect(list.find((c) => c.conversationId === group.id)?.announcementsOnly).toBe(true);

    const fromBob = await f.sealText(bob, group.id, "can I speak?");
    expectError(await f.call(bob, "POST", "/messages", fromBob), 403, "posting_restricted");
    expectStatus((await f.sendText(alice, group.id, "owner speaks")).res, 201);
    expectStatus((await f.sendText(carol, group.id, "admin speaks")).res, 201);

    expectStatus(
      await group.change(carol, { type: "set-announcements-only", enabled: false }),
      200,
    );
    expectStatus((await f.sendText(bob, group.id, "now I can")).res, 201);
  });
});

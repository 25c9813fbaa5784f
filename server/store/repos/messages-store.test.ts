// The messaging stores on every driver: sequences, idempotent sends, who may post, key
// headers, history ranges, forward-only receipts, and sync pages in commit order.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DRIVERS, freshDatabase, type TestDatabase } from "../../../tests/support/databases.ts";
import {
  createAccountInput,
  testDeviceId,
  testUserId,
} from "../../../tests/support/store-inputs.ts";
import type { NewMessage } from "../../domain/ports/messages.ts";
import type { ConversationId } from "../../domain/ports.ts";
import { accountsStore } from "./accounts.ts";
import { contactsStore } from "./contacts-store.ts";
import { conversationsStore } from "./conversations-store.ts";
import { inboxStore } from "./inbox-store.ts";
import { messagesStore } from "./messages-store.ts";
import { receiptsStore } from "./receipts-store.ts";
import { syncStore } from "./sync-store.ts";

const DIRECT = "01900000-0000-8000-8000-00000000d1d1" as ConversationId;
const GROUP = "01900000-0000-7000-8000-0000000000a1" as ConversationId;
const alice = testUserId(1);
const bob = testUserId(2);
const carol = testUserId(3);
const aliceDevice = testDeviceId(1);
const bobDevice = testDeviceId(2);

let serial = 0;
const newId = () => `01900000-0000-7000-a000-${(++serial).toString(16).padStart(12, "0")}`;

function message(overrides: Partial<NewMessage> = {}): NewMessage {
  return {
    id: newId(),
    conversationId: DIRECT,
    senderUserId: alice,
    senderDeviceId: aliceDevice,
    ciphertext: new Uint8Array([1, 2, 3]),
    expiresAt: null,
    keyHeaders: [],
    directPeer: bob,
    now: 2000,
    ...overrides,
  };
}

for (const driver of DRIVERS) {
  describe(`messaging stores on ${driver}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await freshDatabase(driver);
      const accounts = accountsStore(t.database);
      for (const n of [1, 2, 3]) await accounts.createAccount(createAccountInput(n));
    });
    afterEach(() => t.cleanup());

    test("the first message creates the direct conversation; sequences follow; a retry is stored once", async () => {
      const store = messagesStore(t.database);
      const first = message();
      const a = await store.append(first);
      const b = await store.append(message());
      if (typeof a === "string" || typeof b === "string") throw new Error(String(a));
      expect([a.message.seq, b.message.seq]).toEqual([1, 2]);
      expect(a.members.sort()).toEqual([alice, bob].sort());
      const again = await store.append({ ...first, ciphertext: new Uint8Array([9]) });
      if (typeof again === "string") throw new Error(again);
      expect(again).toMatchObject({ duplicate: true, message: { seq: 1, id: first.id } });
      expect(again.message.ciphertext).toEqual(new Uint8Array([1, 2, 3]));
      // The same id in another conversation or from someone else is a conflict.
      expect(await store.append({ ...first, senderUserId: bob, senderDeviceId: bobDevice })).toBe(
        "id_conflict",
      );
      expect((await conversationsStore(t.database).get(DIRECT))?.lastSeq).toBe(2);
    });

    test("concurrent sends get dense, unique sequences", async () => {
      const store = messagesStore(t.database);
      await store.append(message());
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          store.append(
            message(
              i % 2 ? {} : { senderUserId: bob, senderDeviceId: bobDevice, directPeer: alice },
            ),
          ),
        ),
      );
      const seqs = results
        .map((r) => (typeof r === "string" ? -1 : r.message.seq))
        .sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 40 }, (_, i) => i + 2));
    });

    test("who may post: members only, not to someone who blocked you, headers only to members' devices", async () => {
      const store = messagesStore(t.database);
      await store.append(message());
      expect(
        await store.append(
          message({ senderUserId: carol, senderDeviceId: testDeviceId(3), directPeer: undefined }),
        ),
      ).toBe("not_member");
      expect(await store.append(message({ conversationId: GROUP, directPeer: undefined }))).toBe(
        "conversation_not_found",
      );
      expect(
        await store.append(
          message({ keyHeaders: [{ deviceId: testDeviceId(3), header: new Uint8Array([7]) }] }),
        ),
      ).toBe("bad_recipient");
      expect(
        await store.append(
          message({ keyHeaders: [{ deviceId: bobDevice, header: new Uint8Array([7]) }] }),
        ),
      ).toMatchObject({ duplicate: false });
      await contactsStore(t.database).put(bob, alice, { blocked: true }, 3000);
      expect(await store.append(message())).toBe("blocked");
      // Bob may still write to alice.
      expect(
        await store.append(
          message({ senderUserId: bob, senderDeviceId: bobDevice, directPeer: alice }),
        ),
      ).toMatchObject({ duplicate: false });
    });

    test("history is newest first within a member's range, with the device's own key header", async () => {
      const store = messagesStore(t.database);
      const withHeader = message({
        keyHeaders: [{ deviceId: bobDevice, header: new Uint8Array([7, 7]) }],
      });
      await store.append(withHeader);
      for (let i = 0; i < 4; i++) await store.append(message());
      const page = await store.history({
        conversationId: DIRECT,
        deviceId: bobDevice,
        periods: [{ fromSeq: 1, untilSeq: null, fromEpoch: 0, untilEpoch: null }],
        beforeSeq: 5,
        limit: 10,
      });
      expect(page.map((m) => m.seq)).toEqual([4, 3, 2, 1]);
      expect(page.at(-1)?.keyHeader).toEqual(new Uint8Array([7, 7]));
      expect(page[0]?.keyHeader).toBeUndefined();
      const ranged = await store.history({
        conversationId: DIRECT,
        deviceId: aliceDevice,
        periods: [{ fromSeq: 2, untilSeq: 3, fromEpoch: 0, untilEpoch: null }],
        beforeSeq: Number.MAX_SAFE_INTEGER,
        limit: 10,
      });
      expect(ranged.map((m) => m.seq)).toEqual([3, 2]);
    });

    test("receipts only move forward; a delivery acknowledges the device's key headers", async () => {
      const store = messagesStore(t.database);
      await store.append(
        message({ keyHeaders: [{ deviceId: bobDevice, header: new Uint8Array([5]) }] }),
      );
      await store.append(message());
      const receipts = receiptsStore(t.database);
      const input = { conversationId: DIRECT, userId: bob, deviceId: bobDevice, now: 3000 };
      expect(await receipts.delivered({ ...input, seq: 1 })).toBe(1);
      expect(await receipts.delivered({ ...input, seq: 1 })).toBeUndefined();
      // Never past the newest message.
      expect(await receipts.delivered({ ...input, seq: 99 })).toBe(2);
      expect(await receipts.read({ ...input, seq: 2 })).toBe(2);
      expect(await receipts.read({ ...input, seq: 1 })).toBeUndefined();
      const page = await store.history({
        conversationId: DIRECT,
        deviceId: bobDevice,
        periods: [{ fromSeq: 1, untilSeq: null, fromEpoch: 0, untilEpoch: null }],
        beforeSeq: 99,
        limit: 10,
      });
      expect(page.every((m) => m.keyHeader === undefined)).toBe(true);
    });

    test("sync returns each stream after its cursor, in commit order, in pages", async () => {
      const store = messagesStore(t.database);
      for (let i = 0; i < 5; i++) await store.append(message());
      await receiptsStore(t.database).read({
        conversationId: DIRECT,
        userId: bob,
        seq: 3,
        now: 3000,
      });
      await inboxStore(t.database).put([
        {
          deviceId: bobDevice,
          senderUserId: alice,
          senderDeviceId: aliceDevice,
          envelope: new Uint8Array([4]),
          createdAt: 3000,
          expiresAt: 9000,
        },
      ]);
      const sync = syncStore(t.database);
      const start = { messages: 0, receipts: 0, membership: 0, inbox: 0 };
      const first = await sync.page({ userId: bob, deviceId: bobDevice, after: start, limit: 3 });
      expect(first.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
      expect(first.receipts).toEqual([
        { conversationId: DIRECT, userId: bob, deliveredSeq: 3, readSeq: 3 },
      ]);
      expect(first.toDevice.map((e) => e.envelope)).toEqual([new Uint8Array([4])]);
      expect(first.more).toBe(true);
      const second = await sync.page({
        userId: bob,
        deviceId: bobDevice,
        after: first.cursor,
        limit: 3,
      });
      expect(second.messages.map((m) => m.seq)).toEqual([4, 5]);
      expect(second.receipts).toEqual([]);
      expect(second.toDevice).toEqual([]);
      expect(second.more).toBe(false);
      // Carol is in no conversation: nothing.
      const none = await sync.page({
        userId: carol,
        deviceId: testDeviceId(3),
        after: start,
        limit: 10,
      });
      expect(none.messages).toEqual([]);
      expect(none.receipts).toEqual([]);
    });

    test("expired messages lose their ciphertext; the sequence stays", async () => {
      const store = messagesStore(t.database);
      await store.append(message({ expiresAt: 5000 }));
      await store.append(message());
      expect(await store.eraseExpired(4999)).toBe(0);
      expect(await store.eraseExpired(5000)).toBe(1);
      const page = await store.history({
        conversationId: DIRECT,
        deviceId: aliceDevice,
        periods: [{ fromSeq: 1, untilSeq: null, fromEpoch: 0, untilEpoch: null }],
        beforeSeq: 99,
        limit: 10,
      });
      expect(page.map((m) => [m.seq, m.ciphertext === null])).toEqual([
        [2, false],
        [1, true],
      ]);
    });
  });
}

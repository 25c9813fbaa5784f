// The presence service with fakes: a user's announcements leave in the order their causes
// came, however long each store call takes; a failing store call never breaks the next
// change; close waits for the changes still running before it closes the store.
import { expect, test } from "bun:test";
import type { Principal } from "../accounts/tokens.ts";
import type { AccountRecord } from "../ports/accounts.ts";
import type { DeviceEvent } from "../ports/events.ts";
import type { PresenceStore } from "../ports/presence.ts";
import type { DeviceId, UserId } from "../ports.ts";
import { presenceService } from "./presence.ts";

const alice = { userId: "alice" as UserId, deviceId: "alice-phone" as DeviceId } as Principal;
const bob = "bob" as UserId;

/** A store whose answers the test hands out one by one, in any order. */
function scriptedStore() {
  const pending: { kind: string; resolve: (v: boolean) => void; reject: (e: Error) => void }[] = [];
  let closed = false;
  const call = (kind: string) =>
    new Promise<boolean>((resolve, reject) => pending.push({ kind, resolve, reject }));
  const store: PresenceStore = {
    connected: () => call("connected"),
    disconnected: () => call("disconnected"),
    online: async () => new Set(),
    close: async () => {
      closed = true;
    },
  };
  return { store, pending, isClosed: () => closed };
}

function service(store: PresenceStore, touch = async () => {}) {
  const sent: { to: readonly UserId[]; event: DeviceEvent }[] = [];
  const presence = presenceService({
    store,
    accounts: {
      findById: async (id) =>
        ({ id, deletedAt: null, lastSeenVisibility: "everyone" }) as AccountRecord,
      touchLastSeen: touch,
    },
    contacts: { listedBy: async () => [bob], list: async () => [] },
    events: {
      toDevice() {},
      toUser() {},
      toUsers: (to, event) => void sent.push({ to, event }),
      subscribe: () => () => {},
    },
    now: () => 0,
  });
  const flags = () => sent.map((s) => (s.event as { online: boolean }).online);
  return { presence, sent, flags };
}

test("online then offline leave in that order, even when the store answers the other way", async () => {
  const s = scriptedStore();
  const { presence, sent, flags } = service(s.store);
  const up = presence.connected(alice);
  const down = presence.disconnected(alice);
  // The disconnect's answer comes first.
  s.pending[1]!.resolve(true);
  await Bun.sleep(5);
  expect(sent).toEqual([]);
  s.pending[0]!.resolve(true);
  await Promise.all([up, down]);
  expect(flags()).toEqual([true, false]);
  expect(sent[0]).toEqual({
    to: [bob],
    event: { type: "presence", userId: alice.userId, online: true },
  });
});

test("a failing store call fails its own change only; the next one is announced", async () => {
  const s = scriptedStore();
  const { presence, flags } = service(s.store);
  const up = presence.connected(alice);
  const down = presence.disconnected(alice);
  s.pending[0]!.reject(new Error("store down"));
  s.pending[1]!.resolve(true);
  await expect(up).rejects.toThrow("store down");
  await down;
  expect(flags()).toEqual([false]);
});

test("no change, no event: a second device, or one of two leaving", async () => {
  const s = scriptedStore();
  const { presence, sent } = service(s.store);
  const up = presence.connected(alice);
  s.pending[0]!.resolve(false);
  await up;
  expect(sent).toEqual([]);
});

test("close waits for the changes still running, then closes the store", async () => {
  const s = scriptedStore();
  const { presence, flags } = service(s.store);
  const down = presence.disconnected(alice);
  const closing = presence.close();
  await Bun.sleep(5);
  expect(s.isClosed()).toBe(false);
  s.pending[0]!.resolve(true);
  await closing;
  await down;
  expect(s.isClosed()).toBe(true);
  expect(flags()).toEqual([false]);
});

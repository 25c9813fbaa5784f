import type { Principal } from "../accounts/tokens.ts";
import type { AccountsStore } from "../ports/accounts.ts";
import type { ContactsStore } from "../ports/contacts.ts";
import type { EventBus } from "../ports/events.ts";
import type { PresenceStore } from "../ports/presence.ts";
import type { UserId } from "../ports.ts";

/**
 * Who is online, and telling the users allowed to know. The gateway reports each device's
 * socket opening and closing; when that makes the user online (their first device anywhere)
 * or offline (their last one gone), a `presence` event goes to the users who have them as a
 * contact, as far as the user's last-seen visibility allows (the rule of
 * accounts/directory.ts): `everyone` — all of those (except users they blocked), `contacts`
 * — only those the user has as a contact too, `nobody` — none. Ephemeral: never stored, and
 * a device that connects later learns nothing of what came before. Last seen is stamped on
 * both, as before.
 */
export function presenceService(deps: {
  store: PresenceStore;
  accounts: Pick<AccountsStore, "findById" | "touchLastSeen">;
  contacts: Pick<ContactsStore, "listedBy" | "list">;
  events: EventBus;
  now: () => number;
}) {
  /** Per user, the tail of their announcements, so online and offline leave in order. */
  const turns = new Map<UserId, Promise<void>>();
  /** Work still running, awaited by close. */
  const running = new Set<Promise<unknown>>();

  const track = <T>(work: Promise<T>): Promise<T> => {
    running.add(work);
    const done = () => void running.delete(work);
    work.then(done, done);
    return work;
  };

  /** Runs `step` after the user's earlier steps (each settles before the next starts). */
  const inTurn = (userId: UserId, step: () => Promise<void>): Promise<void> => {
    const previous = turns.get(userId) ?? Promise.resolve();
    const turn = previous.then(step);
    // The chain goes on after a failed step; the caller still sees the failure.
    const tail = turn.catch(() => {});
    turns.set(userId, tail);
    tail.then(() => {
      if (turns.get(userId) === tail) turns.delete(userId);
    });
    return turn;
  };

  /** The users who may see `userId`'s presence. */
  async function audience(userId: UserId): Promise<UserId[]> {
    const account = await deps.accounts.findById(userId);
    if (!account || account.deletedAt !== null) return [];
    const visibility = account.lastSeenVisibility;
    if (visibility === "nobody") return [];
    const watchers = await deps.contacts.listedBy(userId);
    if (watchers.length === 0) return [];
    const own = await deps.contacts.list(userId);
    if (visibility === "contacts") {
      const contacts = new Set(own.filter((c) => !c.blocked).map((c) => c.contactUserId));
      return watchers.filter((w) => contacts.has(w));
    }
    const blocked = new Set(own.filter((c) => c.blocked).map((c) => c.contactUserId));
    return watchers.filter((w) => !blocked.has(w));
  }

  function change(principal: Principal, online: boolean): Promise<void> {
    const { userId, deviceId } = principal;
    // Called first and at once: the store counts the device before anything awaits.
    const changed = online
      ? deps.store.connected(userId, deviceId)
      : deps.store.disconnected(userId, deviceId);
    // Awaited in the user's turn, maybe later: a failure must not count as unhandled meanwhile.
    changed.catch(() => {});
    const stamped = deps.accounts.touchLastSeen(userId, deviceId, deps.now());
    const announced = inTurn(userId, async () => {
      if (!(await changed)) return;
      const to = await audience(userId);
      if (to.length > 0) deps.events.toUsers(to, { type: "presence", userId, online });
    });
    return track(Promise.all([stamped, announced]).then(() => {}));
  }

  return {
    /** A device's socket opened. */
    connected: (principal: Principal) => change(principal, true),
    /** A device's socket closed. */
    disconnected: (principal: Principal) => change(principal, false),
    /** The users among `userIds` with a connected device (on any node). */
    online: (userIds: readonly UserId[]) => deps.store.online(userIds),
    /** Lets the last changes finish (sockets closed at shutdown), then closes the store. */
    async close() {
      await Promise.allSettled([...running]);
      await deps.store.close();
    },
  };
}

export type PresenceService = ReturnType<typeof presenceService>;

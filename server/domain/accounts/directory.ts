import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { UserId } from "../../../protocol/identity/ids.ts";
import type { AccountRecord, AccountsStore } from "../ports/accounts.ts";
import type { ContactsStore } from "../ports/directory.ts";
import type { EventBus } from "../ports/events.ts";
import type { UsernameIndex } from "../ports/username-index.ts";
import type { AuditRepository } from "../ports.ts";
import type { Principal } from "./tokens.ts";

export const SEARCH_LIMIT = 20;
export const SEARCH_MIN_CHARS = 3;

/**
 * Whether other users can see an account at all (lookup, search, contacts, key bundles): it
 * has a username and an identity (an admin-created account appears once claimed), and is
 * neither deleted nor disabled.
 */
export const listedInDirectory = (a: AccountRecord): a is AccountRecord & { username: string } =>
  a.username !== null && a.accountKey !== null && a.deletedAt === null && a.disabledAt === null;

/**
 * Who is who: lookup by exact username, the directory search (when the admin allows it),
 * public profiles (ciphertext the server cannot read), last seen as the user allows it,
 * contacts and blocks, and self-service account deletion.
 */
export function directoryService(deps: {
  accounts: AccountsStore;
  usernames: UsernameIndex;
  contacts: ContactsStore;
  events: EventBus;
  audit: AuditRepository;
  searchEnabled: boolean;
  now: () => number;
}) {
  async function visibleLastSeen(
    viewer: UserId,
    account: AccountRecord,
  ): Promise<number | undefined> {
    if (account.lastSeenAt === null || viewer === account.id)
      return account.lastSeenAt ?? undefined;
    if (account.lastSeenVisibility === "everyone") return account.lastSeenAt;
    if (
      account.lastSeenVisibility === "contacts" &&
      (await deps.contacts.isContact(account.id, viewer))
    )
      return account.lastSeenAt;
    return undefined;
  }

  const publicView = async (viewer: UserId, a: AccountRecord) => {
    const lastSeenAt = await visibleLastSeen(viewer, a);
    return {
      userId: a.id,
      username: a.username ?? "",
      accountKey: a.accountKey ? toBase64Url(a.accountKey) : "",
      ...(a.profileCiphertext ? { profileCiphertext: toBase64Url(a.profileCiphertext) } : {}),
      ...(lastSeenAt !== undefined ? { lastSeenAt } : {}),
    };
  };

  return {
    async byUsername(viewer: Principal, username: string) {
      const account = await deps.accounts.findByUsername(username);
      if (!account || !listedInDirectory(account)) throw new ParleyError("user_not_found");
      return publicView(viewer.userId, account);
    },

    async byId(viewer: Principal, userId: UserId) {
      const account = await deps.accounts.findById(userId);
      if (!account || !listedInDirectory(account)) throw new ParleyError("user_not_found");
      return publicView(viewer.userId, account);
    },

    async search(query: string) {
      if (!deps.searchEnabled) throw new ParleyError("directory_disabled");
      const q = query.trim().toLowerCase();
      if (q.length < SEARCH_MIN_CHARS) {
        throw new ParleyError("invalid_request", `Type at least ${SEARCH_MIN_CHARS} characters.`, {
          field: "query.q",
        });
      }
      // The index only proposes: an account deleted or disabled since it was indexed (an
      // external index may lag) is dropped, and the username shown is the database's.
      const hits = await deps.usernames.search(q, SEARCH_LIMIT);
      const current = new Map(
        (await deps.accounts.findByIds(hits.map((h) => h.id))).map((a) => [a.id, a]),
      );
      return hits.flatMap((hit) => {
        const account = current.get(hit.id);
        return account && listedInDirectory(account)
          ? [{ userId: account.id, username: account.username }]
          : [];
      });
    },

    async me(principal: Principal) {
      const a = await deps.accounts.findById(principal.userId);
      if (!a) throw new ParleyError("user_not_found");
      return {
        ...(await publicView(principal.userId, a)),
        isAdmin: a.isAdmin,
        lastSeenVisibility: a.lastSeenVisibility,
        ...(a.phone ? { phone: a.phone } : {}),
        ...(a.email ? { email: a.email } : {}),
      };
    },

    setProfile: (principal: Principal, ciphertext: string) =>
      deps.accounts.setProfile(
        principal.userId,
        fromBase64Url(ciphertext, "body.profileCiphertext"),
        deps.now(),
      ),

    setLastSeenVisibility: (
      principal: Principal,
      visibility: AccountRecord["lastSeenVisibility"],
    ) => deps.accounts.setLastSeenVisibility(principal.userId, visibility),

    async deleteAccount(principal: Principal) {
      await deps.accounts.deleteAccount(principal.userId, deps.now());
      await deps.usernames.remove(principal.userId);
      await deps.audit.append({
        at: deps.now(),
        actor: principal.userId,
        action: "account.delete",
        target: principal.userId,
        details: null,
      });
      deps.events.toUser(principal.userId, { type: "revoked" });
    },

    async contacts(principal: Principal) {
      return (await deps.contacts.list(principal.userId)).map((c) => ({
        userId: c.contactUserId,
        blocked: c.blocked,
        ...(c.nicknameCiphertext ? { nicknameCiphertext: toBase64Url(c.nicknameCiphertext) } : {}),
        createdAt: c.createdAt,
        updatedAt: c.updatedAt,
      }));
    },

    async putContact(
      principal: Principal,
      contactUserId: UserId,
      body: { nicknameCiphertext?: string | null; blocked?: boolean },
    ) {
      if (contactUserId === principal.userId)
        throw new ParleyError("invalid_request", "You cannot add yourself.", {
          field: "params.userId",
        });
      const contact = await deps.accounts.findById(contactUserId);
      if (!contact || !listedInDirectory(contact)) throw new ParleyError("user_not_found");
      const nickname =
        body.nicknameCiphertext === undefined
          ? undefined
          : body.nicknameCiphertext === null
            ? null
            : fromBase64Url(body.nicknameCiphertext, "body.nicknameCiphertext");
      await deps.contacts.put(
        principal.userId,
        contactUserId,
        { nicknameCiphertext: nickname, blocked: body.blocked },
        deps.now(),
      );
      if (body.blocked !== undefined) {
        await deps.audit.append({
          at: deps.now(),
          actor: principal.userId,
          action: body.blocked ? "contact.block" : "contact.unblock",
          target: contactUserId,
          details: null,
        });
      }
    },

    async removeContact(principal: Principal, contactUserId: UserId) {
      if (!(await deps.contacts.remove(principal.userId, contactUserId)))
        throw new ParleyError("user_not_found");
    },

    /** For messaging: does `recipient` refuse what `sender` sends? */
    isBlocked: (recipient: UserId, sender: UserId) => deps.contacts.isBlocked(recipient, sender),
  };
}

export type DirectoryService = ReturnType<typeof directoryService>;

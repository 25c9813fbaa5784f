import { toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { UserId } from "../../../protocol/identity/ids.ts";
import type { AccountRecord, AccountsStore } from "../ports/accounts.ts";
import type { ContactsStore } from "../ports/contacts.ts";
import type { UsernameIndex } from "../ports/username-index.ts";
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

/** What anyone may see of an account, with the last seen the viewer is allowed (if any). */
export const publicView = (a: AccountRecord, lastSeenAt: number | undefined) => ({
  userId: a.id,
  username: a.username ?? "",
  accountKey: a.accountKey ? toBase64Url(a.accountKey) : "",
  ...(a.profileCiphertext ? { profileCiphertext: toBase64Url(a.profileCiphertext) } : {}),
  ...(lastSeenAt !== undefined ? { lastSeenAt } : {}),
});

/**
 * Who is who: lookup by exact username or id, the directory search (when the admin allows
 * it), public profiles (ciphertext the server cannot read) and last seen as the user allows it.
 */
export function directoryService(deps: {
  accounts: AccountsStore;
  usernames: UsernameIndex;
  contacts: ContactsStore;
  searchEnabled: boolean;
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

  const viewAs = async (viewer: UserId, a: AccountRecord) =>
    publicView(a, await visibleLastSeen(viewer, a));

  return {
    async byUsername(viewer: Principal, username: string) {
      const account = await deps.accounts.findByUsername(username);
      if (!account || !listedInDirectory(account)) throw new ParleyError("user_not_found");
      return viewAs(viewer.userId, account);
    },

    async byId(viewer: Principal, userId: UserId) {
      const account = await deps.accounts.findById(userId);
      if (!account || !listedInDirectory(account)) throw new ParleyError("user_not_found");
      return viewAs(viewer.userId, account);
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
  };
}

export type DirectoryService = ReturnType<typeof directoryService>;

import { fromBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { AccountRecord, AccountsStore } from "../ports/accounts.ts";
import type { EventBus } from "../ports/events.ts";
import type { UsernameIndex } from "../ports/username-index.ts";
import type { AuditRepository } from "../ports.ts";
import { publicView } from "./directory.ts";
import type { Principal } from "./tokens.ts";

/**
 * The signed-in user's own account: what it holds, its profile (ciphertext the server cannot
 * read), who sees its last seen, and self-service deletion.
 */
export function accountService(deps: {
  accounts: AccountsStore;
  usernames: UsernameIndex;
  events: EventBus;
  audit: AuditRepository;
  now: () => number;
}) {
  return {
    async me(principal: Principal) {
      const a = await deps.accounts.findById(principal.userId);
      if (!a) throw new ParleyError("user_not_found");
      return {
        // Users always see their own last seen, whatever their visibility setting.
        ...publicView(a, a.lastSeenAt ?? undefined),
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
  };
}

export type AccountService = ReturnType<typeof accountService>;

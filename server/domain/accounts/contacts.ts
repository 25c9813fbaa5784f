import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { UserId } from "../../../protocol/identity/ids.ts";
import type { AccountsStore } from "../ports/accounts.ts";
import type { ContactsStore } from "../ports/contacts.ts";
import type { AuditRepository } from "../ports.ts";
import { listedInDirectory } from "./directory.ts";
import type { Principal } from "./tokens.ts";

/**
 * A user's contacts (with a nickname only their devices can read) and blocks; a contact must
 * be listed in the directory. Blocking and unblocking are audited.
 */
export function contactsService(deps: {
  accounts: AccountsStore;
  contacts: ContactsStore;
  audit: AuditRepository;
  now: () => number;
}) {
  return {
    async list(principal: Principal) {
      return (await deps.contacts.list(principal.userId)).map((c) => ({
        userId: c.contactUserId,
        blocked: c.blocked,
        ...(c.nicknameCiphertext ? { nicknameCiphertext: toBase64Url(c.nicknameCiphertext) } : {}),
        createdAt: c.createdAt,
        updatedAt: c.updatedAt,
      }));
    },

    async put(
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

    async remove(principal: Principal, contactUserId: UserId) {
      if (!(await deps.contacts.remove(principal.userId, contactUserId)))
        throw new ParleyError("user_not_found");
    },

    /** For messaging: does `recipient` refuse what `sender` sends? */
    isBlocked: (recipient: UserId, sender: UserId) => deps.contacts.isBlocked(recipient, sender),
  };
}

export type ContactsService = ReturnType<typeof contactsService>;

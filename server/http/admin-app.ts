import { Elysia, t } from "elysia";
import { Username } from "../../protocol/api/accounts.ts";
import { ParleyError } from "../../protocol/errors.ts";
import type { InviteService } from "../domain/accounts/invites.ts";
import type { TotpService } from "../domain/accounts/totp.ts";
import type { AccountsStore } from "../domain/ports/accounts.ts";
import type { Logger } from "../lib/log.ts";
import { toApiError } from "./error-response.ts";
import { jsonBodyParser } from "./json-body.ts";

/** How long an admin-created account's claim code stays valid. */
export const CLAIM_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const HOUR_MS = 60 * 60 * 1000;
const ADMIN_MAX_BODY_BYTES = 64 * 1024;

/**
 * The admin API, served only on a Unix socket (mode 0600 in the data directory): whoever
 * can open the socket is the server's operator. `parley admin …` talks to it. Actions are
 * audited with the actor `admin-cli`. The CLI issue adds the rest of the commands.
 */
export function adminApp(deps: {
  accounts: AccountsStore;
  invites: InviteService;
  totp: TotpService;
  now: () => number;
  publicUrl: string;
  log: Logger;
}) {
  const claimLink = (code: string) => `${deps.publicUrl}/claim#${code}`;
  return new Elysia({ prefix: "/admin" })
    .onParse(jsonBodyParser(ADMIN_MAX_BODY_BYTES))
    .onError(({ code, error, set }) => {
      const e = toApiError(code, error, deps.log);
      set.status = e.status;
      return e.toBody();
    })
    .post(
      "/users",
      async ({ body, set }) => {
        const { userId, invite, code } = await deps.invites.createClaimableAccount({
          username: body.username,
          admin: body.admin ?? false,
          createdBy: "admin-cli",
          ttlMs: CLAIM_TTL_MS,
        });
        set.status = 201;
        return {
          userId,
          username: body.username,
          admin: body.admin ?? false,
          claimCode: code,
          claimLink: claimLink(code),
          expiresAt: invite.expiresAt,
        };
      },
      { body: t.Object({ username: Username, admin: t.Optional(t.Boolean()) }) },
    )
    .delete(
      "/users/:username/totp",
      async ({ params, set }) => {
        const account = await deps.accounts.findByUsername(params.username);
        if (!account || account.deletedAt !== null) throw new ParleyError("user_not_found");
        if (!(await deps.totp.enrolled(account.id))) throw new ParleyError("totp_not_enrolled");
        await deps.totp.adminReset(account.id);
        set.status = 204;
      },
      { params: t.Object({ username: Username }) },
    )
    .post(
      "/invites",
      async ({ body, set }) => {
        const { invite, code } = await deps.invites.create({
          createdBy: "admin-cli",
          maxUses: body.maxUses ?? 1,
          ttlMs: (body.expiresInHours ?? 24 * 7) * HOUR_MS,
          note: body.note,
        });
        set.status = 201;
        return { ...invite, code, link: `${deps.publicUrl}/register#${code}` };
      },
      {
        body: t.Object({
          maxUses: t.Optional(t.Integer({ minimum: 1, maximum: 10_000 })),
          expiresInHours: t.Optional(t.Integer({ minimum: 1, maximum: 24 * 365 })),
          note: t.Optional(t.String({ maxLength: 200 })),
        }),
      },
    )
    .get("/invites", async () => ({ invites: await deps.invites.list() }))
    .delete(
      "/invites/:id",
      async ({ params, set }) => {
        if (!(await deps.invites.revoke(params.id, "admin-cli")))
          throw new ParleyError("not_found", "No such invite, or it is already revoked.");
        set.status = 204;
      },
      { params: t.Object({ id: t.String({ maxLength: 64 }) }) },
    )
    .all("/*", () => {
      throw new ParleyError("not_found", "No such admin route.");
    });
}

import { ParleyError } from "../../../protocol/errors.ts";
import type { InviteRecord, InvitesStore } from "../ports/auth.ts";
import type { AuditRepository, UserId } from "../ports.ts";
import { randomToken, sha256Hex } from "./secrets.ts";

/** How long the first-start setup link stays valid. */
export const SETUP_INVITE_TTL_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * Invite codes: random, shown once, stored as a hash. Three kinds share the table: plain
 * invites (invite mode), claim codes of accounts an admin created (forUserId), and the
 * one-time setup link that makes the first admin (admin, no user).
 */
export function inviteService(deps: {
  invites: InvitesStore;
  audit: AuditRepository;
  now: () => number;
}) {
  async function create(input: {
    createdBy: string;
    maxUses?: number;
    ttlMs?: number;
    note?: string;
    forUserId?: UserId;
    admin?: boolean;
  }): Promise<{ invite: InviteRecord; code: string }> {
    const code = randomToken(18);
    const now = deps.now();
    const invite: InviteRecord = {
      id: crypto.randomUUID(),
      createdBy: input.createdBy,
      note: input.note ?? null,
      maxUses: input.maxUses ?? 1,
      uses: 0,
      forUserId: input.forUserId ?? null,
      admin: input.admin ?? false,
      createdAt: now,
      expiresAt: now + (input.ttlMs ?? DEFAULT_INVITE_TTL_MS),
      revokedAt: null,
    };
    const { uses: _uses, revokedAt: _revoked, ...row } = invite;
    await deps.invites.create({ ...row, codeHash: await sha256Hex(code) });
    await deps.audit.append({
      at: now,
      actor: input.createdBy,
      action: input.forUserId
        ? "invite.create_claim"
        : input.admin
          ? "invite.create_setup"
          : "invite.create",
      target: invite.id,
      details: { maxUses: invite.maxUses, expiresAt: invite.expiresAt },
    });
    return { invite, code };
  }

  return {
    create,
    list: () => deps.invites.list(),
    async revoke(id: string, actor: string) {
      const done = await deps.invites.revoke(id, deps.now());
      if (done)
        await deps.audit.append({
          at: deps.now(),
          actor,
          action: "invite.revoke",
          target: id,
          details: null,
        });
      return done;
    },
    /** The usable invite a code names; `invite_invalid` otherwise (the write re-checks). */
    async resolve(code: string): Promise<InviteRecord> {
      const invite = await deps.invites.findByCodeHash(await sha256Hex(code));
      if (
        !invite ||
        invite.revokedAt !== null ||
        invite.uses >= invite.maxUses ||
        invite.expiresAt <= deps.now()
      ) {
        throw new ParleyError("invite_invalid");
      }
      return invite;
    },
    /**
     * At start, when there is no admin and no open setup invite: a one-time setup code for
     * the first admin (valid 24 h). Returns the code to print once, or undefined.
     */
    async setupCodeIfNeeded(adminCount: number): Promise<string | undefined> {
      if (adminCount > 0 || (await deps.invites.hasOpenSetupInvite(deps.now()))) return undefined;
      const { code } = await create({
        createdBy: "system",
        admin: true,
        ttlMs: SETUP_INVITE_TTL_MS,
      });
      return code;
    },
  };
}

export type InviteService = ReturnType<typeof inviteService>;

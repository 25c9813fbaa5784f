import { ParleyError } from "../../../protocol/errors.ts";
import type { AccountsStore } from "../ports/accounts.ts";
import type { InviteRecord, InvitesStore, NewInvite } from "../ports/invites.ts";
import type { AuditRepository, UserId } from "../ports.ts";
import { randomToken, sha256Hex } from "./secrets.ts";
import { writeError } from "./write-error.ts";

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
  accounts: AccountsStore;
  audit: AuditRepository;
  now: () => number;
}) {
  /** A new invite and its code, not stored yet. */
  async function draft(input: {
    createdBy: string;
    maxUses?: number;
    ttlMs?: number;
    note?: string;
    forUserId?: UserId;
    admin?: boolean;
  }): Promise<{ invite: InviteRecord; code: string; row: NewInvite }> {
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
    const { uses: _uses, revokedAt: _revoked, ...fields } = invite;
    return { invite, code, row: { ...fields, codeHash: await sha256Hex(code) } };
  }

  const audited = (invite: InviteRecord) =>
    deps.audit.append({
      at: invite.createdAt,
      actor: invite.createdBy,
      action: invite.forUserId
        ? "invite.create_claim"
        : invite.admin
          ? "invite.create_setup"
          : "invite.create",
      target: invite.id,
      details: { maxUses: invite.maxUses, expiresAt: invite.expiresAt },
    });

  async function create(input: Parameters<typeof draft>[0]) {
    const { invite, code, row } = await draft(input);
    await deps.invites.create(row);
    await audited(invite);
    return { invite, code };
  }

  return {
    create,
    /**
     * An account an admin creates (its username kept for its owner) and the one-time claim
     * code the owner registers their first device with, written together.
     */
    async createClaimableAccount(input: {
      username: string;
      admin: boolean;
      createdBy: string;
      ttlMs: number;
    }) {
      const userId = Bun.randomUUIDv7() as UserId;
      const { invite, code, row } = await draft({
        createdBy: input.createdBy,
        forUserId: userId,
        admin: input.admin,
        ttlMs: input.ttlMs,
      });
      const refused = await deps.accounts.createPendingAccount({
        id: userId,
        username: input.username,
        isAdmin: input.admin,
        now: invite.createdAt,
        claim: row,
      });
      if (refused) throw writeError(refused);
      await audited(invite);
      return { userId, invite, code };
    },
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

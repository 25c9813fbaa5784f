import type { UserId } from "../ports.ts";

export interface InviteRecord {
  id: string;
  createdBy: string;
  note: string | null;
  maxUses: number;
  uses: number;
  forUserId: UserId | null;
  admin: boolean;
  createdAt: number;
  expiresAt: number;
  revokedAt: number | null;
}

/** An invite as it is first stored: its record and the hash of its code. */
export type NewInvite = Omit<InviteRecord, "uses" | "revokedAt"> & { codeHash: string };

/** Invite codes, stored by hash (server/domain/accounts/invites.ts). */
export interface InvitesStore {
  create(input: NewInvite): Promise<void>;
  findByCodeHash(codeHash: string): Promise<InviteRecord | undefined>;
  list(): Promise<InviteRecord[]>;
  revoke(id: string, now: number): Promise<boolean>;
  /** Is there a usable admin setup invite (the first-start setup link)? */
  hasOpenSetupInvite(now: number): Promise<boolean>;
}

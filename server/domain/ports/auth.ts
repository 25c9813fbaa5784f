import type { DeviceId, UserId } from "../ports.ts";

/** Refresh tokens, WebSocket tickets and the secrets every node shares. */
export interface AuthStore {
  /** Stores a new refresh token (by hash) for a device. */
  addRefreshToken(input: {
    id: string;
    deviceId: DeviceId;
    tokenHash: string;
    now: number;
    expiresAt: number;
  }): Promise<void>;
  /**
   * Spends a refresh token: when it is current, marks it used and returns its device. When it
   * was already used, that is reuse: every refresh token of the device is revoked, access
   * tokens issued before now are refused, and `reused` is returned with the device. A token
   * revoked before (reuse, device removed) is `revoked`, with its device.
   */
  spendRefreshToken(input: {
    id: string;
    tokenHash: string;
    now: number;
  }): Promise<{ deviceId: DeviceId; reused?: true; revoked?: true } | "invalid">;

  addWsTicket(input: { ticketHash: string; deviceId: DeviceId; expiresAt: number }): Promise<void>;
  /** Deletes the ticket and returns its device if it was there and unexpired (single use). */
  spendWsTicket(ticketHash: string, now: number): Promise<DeviceId | undefined>;

  /** A named secret, created with `make` by whichever node asks first. */
  secret(name: string, make: () => Uint8Array, now: number): Promise<Uint8Array>;
}

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

export interface InvitesStore {
  create(input: NewInvite): Promise<void>;
  findByCodeHash(codeHash: string): Promise<InviteRecord | undefined>;
  list(): Promise<InviteRecord[]>;
  revoke(id: string, now: number): Promise<boolean>;
  /** Is there a usable admin setup invite (the first-start setup link)? */
  hasOpenSetupInvite(now: number): Promise<boolean>;
}

export interface OtpStore {
  /** Challenges for a destination created after `since` (rate limiting per destination). */
  recentChallenges(destinationHmac: string, since: number): Promise<number>;
  create(input: {
    id: string;
    destinationHmac: string;
    codeHmac: string;
    now: number;
    expiresAt: number;
  }): Promise<void>;
  get(id: string): Promise<
    | {
        destinationHmac: string;
        codeHmac: string;
        attempts: number;
        expiresAt: number;
        verifiedAt: number | null;
      }
    | undefined
  >;
  /**
   * Counts one attempt at a challenge, in one statement, before the code is compared: at
   * most `maxAttempts` attempts are ever counted, however many race. Returns the challenge
   * with the attempts made, this one included; undefined when the challenge is unknown,
   * expired (or spent) or has no attempt left.
   */
  claimAttempt(
    id: string,
    now: number,
    maxAttempts: number,
  ): Promise<{ destinationHmac: string; codeHmac: string; attempts: number } | undefined>;
  markVerified(id: string, now: number): Promise<void>;
}

export interface TotpStore {
  get(userId: UserId): Promise<{ secret: string; confirmedAt: number | null } | undefined>;
  /**
   * Starts (or restarts, while unconfirmed) an enrolment, in one statement; false when the
   * account has a confirmed TOTP, which is left as it is.
   */
  begin(userId: UserId, secret: string, now: number): Promise<boolean>;
  confirm(userId: UserId, recoveryCodeHashes: string[], now: number): Promise<void>;
  remove(userId: UserId): Promise<void>;
}

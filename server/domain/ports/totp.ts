import type { UserId } from "../ports.ts";

/** An account's TOTP secret and its recovery codes (server/domain/accounts/totp.ts). */
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

/** One-time-code challenges (server/domain/accounts/otp.ts): the code and address kept as HMACs. */
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

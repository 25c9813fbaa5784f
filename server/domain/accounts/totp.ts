import { Secret, TOTP } from "otpauth";
import { ParleyError } from "../../../protocol/errors.ts";
import type { RateLimiter } from "../ports/rate-limit.ts";
import type { TotpStore } from "../ports/totp.ts";
import type { AuditRepository, UserId } from "../ports.ts";
import { randomToken, sha256Hex } from "./secrets.ts";

export const RECOVERY_CODE_COUNT = 10;
/** Second-factor guesses at an identity reset, per account (whatever the client address). */
export const SECOND_FACTOR_GUESSES_PER_HOUR = 5;
const HOUR_MS = 60 * 60 * 1000;
const ISSUER = "Parley";

/**
 * TOTP second factor (RFC 6238, 30 s, 6 digits, SHA-1 as authenticator apps expect),
 * enrolled with an otpauth URI, confirmed with a first code, backed by single-use recovery
 * codes. It is the registration lock: resetting the identity of an account that enrolled
 * needs a code or a recovery code, at most SECOND_FACTOR_GUESSES_PER_HOUR guesses an hour
 * per account. An admin can remove it (CLI).
 */
export function totpService(deps: {
  store: TotpStore;
  audit: AuditRepository;
  limiter: RateLimiter;
  now: () => number;
}) {
  const totpFor = (secret: string, label: string) =>
    new TOTP({
      issuer: ISSUER,
      label,
      algorithm: "SHA1",
      digits: 6,
      period: 30,
      secret: Secret.fromBase32(secret),
    });
  // otpauth's validate() returns the window offset (0 for the current step) or null.
  const valid = (secret: string, code: string) =>
    totpFor(secret, "x").validate({ token: code, timestamp: deps.now(), window: 1 }) !== null;

  return {
    async begin(userId: UserId, label: string): Promise<{ secret: string; uri: string }> {
      const secret = new Secret({ size: 20 }).base32;
      // The store refuses in the same statement when TOTP is confirmed (a read first could
      // be stale by the time of the write).
      if (!(await deps.store.begin(userId, secret, deps.now())))
        throw new ParleyError("totp_already_enrolled");
      return { secret, uri: totpFor(secret, label).toString() };
    },

    async confirm(userId: UserId, code: string): Promise<{ recoveryCodes: string[] }> {
      const existing = await deps.store.get(userId);
      if (!existing) throw new ParleyError("totp_not_enrolled");
      if (existing.confirmedAt) throw new ParleyError("totp_already_enrolled");
      if (!valid(existing.secret, code)) throw new ParleyError("second_factor_invalid");
      const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, () => randomToken(10));
      await deps.store.confirm(
        userId,
        await Promise.all(recoveryCodes.map((c) => sha256Hex(c))),
        deps.now(),
      );
      await deps.audit.append({
        at: deps.now(),
        actor: userId,
        action: "totp.enable",
        target: userId,
        details: null,
      });
      return { recoveryCodes };
    },

    async disable(userId: UserId, code: string, actor: string = userId): Promise<void> {
      const existing = await deps.store.get(userId);
      if (!existing?.confirmedAt) throw new ParleyError("totp_not_enrolled");
      if (!valid(existing.secret, code)) throw new ParleyError("second_factor_invalid");
      await deps.store.remove(userId);
      await deps.audit.append({
        at: deps.now(),
        actor,
        action: "totp.disable",
        target: userId,
        details: null,
      });
    },

    /** Admin reset (CLI): removes the second factor without a code. */
    async adminReset(userId: UserId): Promise<void> {
      await deps.store.remove(userId);
      await deps.audit.append({
        at: deps.now(),
        actor: "admin-cli",
        action: "totp.admin_reset",
        target: userId,
        details: null,
      });
    },

    /**
     * Checks the second factor of an identity reset of an account that enrolled TOTP. A TOTP
     * code is checked here; a recovery code is returned by hash for the reset to spend in its
     * own write (AccountsStore.resetIdentity), so a reset refused later keeps it.
     */
    async checkForReset(
      userId: UserId,
      factor: { totpCode?: string; recoveryCode?: string } | undefined,
    ): Promise<{ recoveryCodeHash?: string }> {
      const existing = await deps.store.get(userId);
      if (!existing?.confirmedAt) return {};
      if (!factor?.totpCode && !factor?.recoveryCode)
        throw new ParleyError("second_factor_required");
      // Counted before the check, per account: spreading guesses over addresses does not help.
      const decision = await deps.limiter.hit(
        `second-factor:${userId}`,
        SECOND_FACTOR_GUESSES_PER_HOUR,
        HOUR_MS,
      );
      if (!decision.allowed)
        throw new ParleyError("rate_limited", undefined, { retryAfterMs: decision.retryAfterMs });
      if (factor.totpCode && valid(existing.secret, factor.totpCode)) return {};
      if (factor.recoveryCode) return { recoveryCodeHash: await sha256Hex(factor.recoveryCode) };
      throw new ParleyError("second_factor_invalid");
    },

    async enrolled(userId: UserId): Promise<boolean> {
      return (await deps.store.get(userId))?.confirmedAt != null;
    },
  };
}

export type TotpService = ReturnType<typeof totpService>;

import { Secret, TOTP } from "otpauth";
import { ParleyError } from "../../../protocol/errors.ts";
import type { TotpStore } from "../ports/auth.ts";
import type { AuditRepository, UserId } from "../ports.ts";
import { randomToken, sha256Hex } from "./secrets.ts";

export const RECOVERY_CODE_COUNT = 10;
const ISSUER = "Parley";

/**
 * TOTP second factor (RFC 6238, 30 s, 6 digits, SHA-1 as authenticator apps expect),
 * enrolled with an otpauth URI, confirmed with a first code, backed by single-use recovery
 * codes. It is the registration lock: resetting the identity of an account that enrolled
 * needs a code or a recovery code. An admin can remove it (CLI).
 */
export function totpService(deps: { store: TotpStore; audit: AuditRepository; now: () => number }) {
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
      const existing = await deps.store.get(userId);
      if (existing?.confirmedAt) throw new ParleyError("totp_already_enrolled");
      const secret = new Secret({ size: 20 }).base32;
      await deps.store.begin(userId, secret, deps.now());
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

    /** Throws unless the account has no TOTP or the second factor given is valid. */
    async requireForReset(
      userId: UserId,
      factor: { totpCode?: string; recoveryCode?: string } | undefined,
    ): Promise<void> {
      const existing = await deps.store.get(userId);
      if (!existing?.confirmedAt) return;
      if (!factor?.totpCode && !factor?.recoveryCode)
        throw new ParleyError("second_factor_required");
      if (factor.totpCode && valid(existing.secret, factor.totpCode)) return;
      if (
        factor.recoveryCode &&
        (await deps.store.spendRecoveryCode(
          userId,
          await sha256Hex(factor.recoveryCode),
          deps.now(),
        ))
      )
        return;
      throw new ParleyError("second_factor_invalid");
    },

    async enrolled(userId: UserId): Promise<boolean> {
      return (await deps.store.get(userId))?.confirmedAt != null;
    },
  };
}

export type TotpService = ReturnType<typeof totpService>;

import { normalizeEmail } from "../../../protocol/api/accounts.ts";
import { systemRng } from "../../../protocol/crypto/bytes.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { OtpStore } from "../ports/one-time-codes.ts";
import { OtpDeliveryError, type OtpSender } from "../ports/otp-sender.ts";
import type { AuditRepository } from "../ports.ts";
import type { RegistrationMode } from "./registration.ts";
import { hmacHex, randomSixDigits, sameDigest } from "./secrets.ts";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;
const OTP_HMAC_SECRET = "otp-hmac-v1";

/**
 * Where a code goes, in the one form per person the HMAC and the lookup use: a phone number
 * is E.164 already (the API's pattern allows no other spelling); an email address is
 * normalized by normalizeEmail, as the accounts store does when it stores and finds one.
 */
function normalized(destination: { phone?: string | null; email?: string | null }): {
  channel: "sms" | "email";
  to: string;
} {
  if (destination.phone && !destination.email) return { channel: "sms", to: destination.phone };
  if (destination.email && !destination.phone)
    return { channel: "email", to: normalizeEmail(destination.email) };
  throw new ParleyError("invalid_request", "Give either a phone number or an email address.", {
    field: "body.phone",
  });
}

/**
 * One-time codes: 6 digits, valid 10 minutes, 5 attempts (each counted before its code is
 * compared, so parallel guesses get no more), sent only when registration is in OTP mode.
 *
 * A challenge keeps the code and the address only as HMACs under a server key. The key is in
 * the same database (`server_secrets`): the HMACs protect the codes against offline guessing
 * only while the key stays secret (with it, 10^6 codes fall at once), and hide the addresses
 * only from a copy of `otp_challenges` without the `server_secrets` row. An account's own
 * address is stored in clear (`users.phone`, `users.email`).
 * Per-address and per-client limits come from the rate limiter at the route.
 */
export async function otpService(deps: {
  /** Codes are sent only in `otp` mode: elsewhere anyone could make the server send SMS. */
  mode: RegistrationMode;
  store: OtpStore;
  sender: OtpSender | undefined;
  secret: (name: string, make: () => Uint8Array) => Promise<Uint8Array>;
  audit: AuditRepository;
  now: () => number;
  log: { warn(msg: string, fields?: Record<string, unknown>): void };
}) {
  const key = await deps.secret(OTP_HMAC_SECRET, () => systemRng(32));
  const destinationHmac = (to: string) => hmacHex(key, `destination:${to}`);
  const codeHmac = (challengeId: string, code: string) =>
    hmacHex(key, `code:${challengeId}:${code}`);

  return {
    /** Sends a code; returns the challenge the registration will name. */
    async request(destination: {
      phone?: string;
      email?: string;
    }): Promise<{ challengeId: string; expiresAt: number }> {
      if (deps.mode !== "otp") throw new ParleyError("registration_closed");
      const { channel, to } = normalized(destination);
      if (!deps.sender?.channels.includes(channel)) throw new ParleyError("otp_unavailable");
      const challengeId = crypto.randomUUID();
      const code = randomSixDigits();
      const now = deps.now();
      const expiresAt = now + OTP_TTL_MS;
      try {
        await deps.sender.send({ channel, to, code, expiresInMinutes: OTP_TTL_MS / 60_000 });
      } catch (err) {
        if (err instanceof OtpDeliveryError) {
          deps.log.warn("one-time code not sent", { channel, detail: err.detail });
          throw new ParleyError("otp_unavailable", err.message);
        }
        throw err;
      }
      await deps.store.create({
        id: challengeId,
        destinationHmac: await destinationHmac(to),
        codeHmac: await codeHmac(challengeId, code),
        now,
        expiresAt,
      });
      return { challengeId, expiresAt };
    },

    /**
     * Checks a code for a challenge and the address it was sent to. The attempt is counted
     * first, in the same statement that checks the limit; only a counted attempt is compared.
     */
    async verify(
      challengeId: string,
      code: string,
      destination: { phone: string | null; email: string | null },
    ): Promise<void> {
      const { to } = normalized(destination);
      const now = deps.now();
      const challenge = await deps.store.claimAttempt(challengeId, now, OTP_MAX_ATTEMPTS);
      if (!challenge) {
        // Nothing was compared; the read only picks the error the client sees.
        const known = await deps.store.get(challengeId);
        const exhausted = known && known.expiresAt > now && known.attempts >= OTP_MAX_ATTEMPTS;
        throw new ParleyError(exhausted ? "otp_attempts_exceeded" : "otp_invalid");
      }
      const right =
        sameDigest(await codeHmac(challengeId, code), challenge.codeHmac) &&
        sameDigest(await destinationHmac(to), challenge.destinationHmac);
      if (!right) {
        throw new ParleyError(
          challenge.attempts >= OTP_MAX_ATTEMPTS ? "otp_attempts_exceeded" : "otp_invalid",
        );
      }
      await deps.store.markVerified(challengeId, deps.now());
    },

    /** For the per-address rate limit key (never the address itself). */
    limitKeyFor: async (destination: { phone?: string; email?: string }) =>
      destinationHmac(normalized(destination).to),
  };
}

export type OtpService = Awaited<ReturnType<typeof otpService>>;

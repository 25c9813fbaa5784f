import { systemRng } from "../../../protocol/crypto/bytes.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { OtpStore } from "../ports/auth.ts";
import { OtpDeliveryError, type OtpSender } from "../ports/otp-sender.ts";
import type { AuditRepository } from "../ports.ts";
import { hmacHex, randomSixDigits, sameDigest } from "./secrets.ts";

export const OTP_TTL_MS = 10 * 60 * 1000;
export const OTP_MAX_ATTEMPTS = 5;
const OTP_HMAC_SECRET = "otp-hmac-v1";

/** A phone number or email address, normalized so one person has one form. */
function normalized(destination: { phone?: string | null; email?: string | null }): {
  channel: "sms" | "email";
  to: string;
} {
  if (destination.phone && !destination.email) return { channel: "sms", to: destination.phone };
  if (destination.email && !destination.phone)
    return { channel: "email", to: destination.email.trim().toLowerCase() };
  throw new ParleyError("invalid_request", "Give either a phone number or an email address.", {
    field: "body.phone",
  });
}

/**
 * One-time codes: 6 digits, valid 10 minutes, 5 attempts. The code and the address are kept
 * only as HMACs under a server key (a plain hash of 6 digits falls to a brute force at once).
 * Per-address and per-client limits come from the rate limiter at the route.
 */
export async function otpService(deps: {
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

    /** Checks a code for a challenge and the address it was sent to; 5 attempts at most. */
    async verify(
      challengeId: string,
      code: string,
      destination: { phone: string | null; email: string | null },
    ): Promise<void> {
      const challenge = await deps.store.get(challengeId);
      const { to } = normalized(destination);
      if (!challenge || challenge.expiresAt <= deps.now()) throw new ParleyError("otp_invalid");
      if (challenge.attempts >= OTP_MAX_ATTEMPTS) throw new ParleyError("otp_attempts_exceeded");
      const right =
        sameDigest(await codeHmac(challengeId, code), challenge.codeHmac) &&
        sameDigest(await destinationHmac(to), challenge.destinationHmac);
      if (!right) {
        const attempts = await deps.store.recordFailure(challengeId);
        throw new ParleyError(
          attempts >= OTP_MAX_ATTEMPTS ? "otp_attempts_exceeded" : "otp_invalid",
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

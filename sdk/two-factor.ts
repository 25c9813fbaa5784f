import type { ApiClient } from "./api-client.ts";

/**
 * Two-factor authentication (TOTP, RFC 6238: SHA-1, 6 digits, 30 s, what authenticator apps
 * expect). Once enrolled it is the registration lock: registering the account again (an
 * identity reset) needs a code or a recovery code. Enrolment has two steps so a typo in the
 * app cannot lock the person out: the server keeps the secret pending until a first code
 * proves the app has it.
 */

/** A pending enrolment: the secret to type in, and the same as a URI to show as a QR code. */
export interface TotpEnrolment {
  /** Base32, for typing into an authenticator app by hand. */
  secret: string;
  /** `otpauth://totp/…`, for a QR code. */
  uri: string;
}

/**
 * Starts enrolment (again, if a previous one was never confirmed: the new secret replaces
 * it). `totp_already_enrolled` when two-factor is already on.
 */
export const startTotpEnrolment = (api: ApiClient) =>
  api.request<TotpEnrolment>("POST", "/api/v1/account/totp");

/**
 * Confirms enrolment with a code from the app; returns the recovery codes, shown this once
 * (the server keeps only their hashes). `second_factor_invalid` for a wrong code,
 * `totp_not_enrolled` without a pending enrolment.
 */
export async function confirmTotpEnrolment(api: ApiClient, code: string): Promise<string[]> {
  const { recoveryCodes } = await api.request<{ recoveryCodes: string[] }>(
    "POST",
    "/api/v1/account/totp/confirm",
    { body: { code: code.trim() } },
  );
  return recoveryCodes;
}

/**
 * Turns two-factor off, with a current code from the app. `second_factor_invalid` for a wrong
 * code, `totp_not_enrolled` when it is not on.
 */
export async function disableTotp(api: ApiClient, code: string): Promise<void> {
  await api.request("DELETE", "/api/v1/account/totp", { body: { code: code.trim() } });
}

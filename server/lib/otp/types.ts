/**
 * What the senders here offer. server/lib/ is a leaf and may not import the domain;
 * server/wiring/otp-sender.ts adapts a sender to the domain's OtpSender port.
 */

/** Where a one-time code goes. */
export type OtpChannel = "sms" | "email";

/** One code to deliver. */
export interface OtpMessage {
  channel: OtpChannel;
  /** A phone number in E.164 form for `sms`, an email address for `email`. */
  to: string;
  code: string;
  expiresInMinutes: number;
}

/** Sends a one-time code; a failure to send throws OtpDeliveryError. */
export interface OtpSender {
  /** Which destinations this provider reaches. */
  readonly channels: readonly OtpChannel[];
  send(message: OtpMessage): Promise<void>;
  close?(): Promise<void>;
}

/** The provider refused or could not be reached; the detail is for the log only. */
export class OtpDeliveryError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = "OtpDeliveryError";
  }
}

/** The text of a code message, shared by SMS and email so both read the same. */
export function otpText(code: string, expiresInMinutes: number): string {
  const unit = expiresInMinutes === 1 ? "minute" : "minutes";
  return `Your Parley code is ${code}. It expires in ${expiresInMinutes} ${unit}.`;
}

/** Shorter "secrets" are skipped by redact(): replacing them would garble the whole text. */
const MIN_REDACTED_LENGTH = 4;

/**
 * Replaces secrets (an auth token, the code itself) and the destination (a phone number or
 * email address: personal data) in text headed for a log, in case a provider or a proxy
 * echoes the request back in its error.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= MIN_REDACTED_LENGTH) out = out.replaceAll(secret, "[redacted]");
  }
  return out;
}

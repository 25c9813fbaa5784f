/** Where a one-time code goes. */
export type OtpChannel = "sms" | "email";

/**
 * Sends a one-time code to a phone number (E.164) or an email address. Implementations in
 * server/lib/otp/: Twilio's REST API (SMS), SMTP (email), and the console (development
 * only: the code is printed in the server log). A failure to send throws OtpDeliveryError.
 */
export interface OtpSender {
  /** Which destinations this provider reaches. */
  readonly channels: readonly OtpChannel[];
  send(message: {
    channel: OtpChannel;
    to: string;
    code: string;
    expiresInMinutes: number;
  }): Promise<void>;
  close?(): Promise<void>;
}

/**
 * The provider refused or could not be reached; the detail is for the log only. (The lib's
 * senders throw their own class; server/wiring/otp-sender.ts turns it into this one.)
 */
export class OtpDeliveryError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = "OtpDeliveryError";
  }
}

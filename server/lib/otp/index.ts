import { consoleSender } from "./console.ts";
import { smtpSender } from "./smtp.ts";
import { twilioSender } from "./twilio.ts";
import type { OtpSender } from "./types.ts";

export { consoleSender, maskDestination } from "./console.ts";
export { smtpSender } from "./smtp.ts";
export { twilioSender } from "./twilio.ts";
export type { OtpChannel, OtpMessage, OtpSender } from "./types.ts";
export { OtpDeliveryError } from "./types.ts";

/**
 * The configuration keys the senders read; the server's whole Config matches it
 * (server/lib/ may not import server/config/, so the shape is spelled out here).
 */
export interface OtpConfig {
  otp: { provider: "none" | "twilio" | "smtp" | "console" };
  twilio: { account_sid: string; auth_token: string; from: string; api_url: string };
  smtp: {
    host: string;
    port: number;
    secure: boolean;
    username: string;
    password: string;
    from: string;
  };
}

/**
 * The sender `otp.provider` names, or undefined for `none`. `log` receives the console
 * sender's lines; the other senders do not log. The keys each provider needs were checked
 * when the configuration was loaded (server/config/rules.ts).
 */
export function createOtpSender(
  config: OtpConfig,
  log: (line: string) => void,
): OtpSender | undefined {
  switch (config.otp.provider) {
    case "none":
      return undefined;
    case "console":
      return consoleSender(log);
    case "twilio":
      return twilioSender({
        accountSid: config.twilio.account_sid,
        authToken: config.twilio.auth_token,
        from: config.twilio.from,
        apiUrl: config.twilio.api_url,
      });
    case "smtp":
      return smtpSender(config.smtp);
  }
}

import { OtpDeliveryError, type OtpSender } from "../domain/ports/otp-sender.ts";
import { createOtpSender } from "../lib/otp/index.ts";
import { OtpDeliveryError as SendFailure } from "../lib/otp/types.ts";

/**
 * The configured one-time-code sender (server/lib/otp/) as the domain's OtpSender port. The
 * lib is a leaf with its own error class; here its failures become the domain's
 * OtpDeliveryError.
 */
export function otpSenderFor(
  config: Parameters<typeof createOtpSender>[0],
  log: (line: string) => void,
): OtpSender | undefined {
  const sender = createOtpSender(config, log);
  if (!sender) return undefined;
  return {
    channels: sender.channels,
    async send(message) {
      try {
        await sender.send(message);
      } catch (err) {
        if (err instanceof SendFailure) throw new OtpDeliveryError(err.message, err.detail);
        throw err;
      }
    },
    close: async () => sender.close?.(),
  };
}

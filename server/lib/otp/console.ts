import type { OtpMessage, OtpSender } from "./types.ts";

/** Characters of the destination kept at each end; the rest is hidden. */
const KEEP_START = 3;
const KEEP_END = 2;

/**
 * Development only: "sends" a code by writing one line through `log` (the server passes its
 * logger at warn level). This is the one place a code is ever printed, on purpose: it lets
 * a developer register without Twilio or a mail server. The destination is masked, since
 * even a development log may be shared.
 */
export function consoleSender(log: (line: string) => void): OtpSender {
  return {
    channels: ["sms", "email"],
    async send(message: OtpMessage): Promise<void> {
      log(
        `one-time code for ${maskDestination(message.to)}: ${message.code} (expires in ${message.expiresInMinutes} min)`,
      );
    },
  };
}

/** `+15551234567` → `+15…67`; a destination too short to mask is hidden entirely. */
export function maskDestination(to: string): string {
  const chars = [...to];
  if (chars.length <= KEEP_START + KEEP_END) return "…";
  return `${chars.slice(0, KEEP_START).join("")}…${chars.slice(-KEEP_END).join("")}`;
}

import { OtpDeliveryError, type OtpMessage, type OtpSender, otpText, redact } from "./types.ts";

/** How long a call to Twilio may take before the send counts as failed. */
export const TWILIO_TIMEOUT_MS = 10_000;
/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{6,14}$/;
/** Messaging service SIDs start with MG; anything else in `from` is a number or sender id. */
const MESSAGING_SERVICE_PREFIX = "MG";
/** Twilio's own error text is kept short in the log. */
const MAX_DETAIL_CHARS = 300;
const SAFE_MESSAGE = "The code could not be sent by SMS.";

/** The part of `fetch` the sender uses, so tests can pass their own. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** Settings of the Twilio sender (config keys `twilio.*`). */
export interface TwilioOptions {
  accountSid: string;
  authToken: string;
  /** A sending number in E.164 form, an alphanumeric sender id, or a messaging service SID (MG…). */
  from: string;
  /** REST API base URL, `https://api.twilio.com` outside tests. */
  apiUrl: string;
  fetch?: FetchLike;
  timeoutMs?: number;
}

/**
 * Sends codes by SMS through Twilio's Messages API (one POST per code). Errors carry a
 * message safe to show and, in `detail`, Twilio's status, error code and text for the log;
 * neither ever contains the auth token, the code or the phone number.
 */
export function twilioSender(options: TwilioOptions): OtpSender {
  const fetchFn = options.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = options.timeoutMs ?? TWILIO_TIMEOUT_MS;
  const base = options.apiUrl.replace(/\/+$/, "");
  const url = `${base}/2010-04-01/Accounts/${encodeURIComponent(options.accountSid)}/Messages.json`;
  const authorization = `Basic ${btoa(`${options.accountSid}:${options.authToken}`)}`;
  const senderField = options.from.startsWith(MESSAGING_SERVICE_PREFIX)
    ? "MessagingServiceSid"
    : "From";

  async function send(message: OtpMessage): Promise<void> {
    if (message.channel !== "sms") {
      throw new OtpDeliveryError(SAFE_MESSAGE, `twilio sends sms only, not ${message.channel}`);
    }
    if (!E164.test(message.to)) {
      throw new OtpDeliveryError(
        "The phone number must be in international format, like +15551234567.",
        "destination is not an E.164 number",
      );
    }
    const body = new URLSearchParams({
      To: message.to,
      [senderField]: options.from,
      Body: otpText(message.code, message.expiresInMinutes),
    });
    // Twilio's error text repeats the To number ("The 'To' number +1555… is not valid"),
    // with or without its plus: the number is personal data and stays out of the log.
    const secrets = [options.authToken, message.code, message.to, message.to.slice(1)];
    let response: Response;
    try {
      response = await fetchFn(url, {
        method: "POST",
        headers: { authorization, "content-type": "application/x-www-form-urlencoded" },
        body,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new OtpDeliveryError(SAFE_MESSAGE, redact(`twilio request failed: ${reason}`, secrets));
    }
    if (response.ok) {
      // Drain the body so the connection can be reused.
      await response.arrayBuffer().catch(() => undefined);
      return;
    }
    const detail = await describeFailure(response);
    throw new OtpDeliveryError(SAFE_MESSAGE, redact(detail, secrets));
  }

  return { channels: ["sms"], send };
}

/** Twilio's error body is `{code, message, more_info, status}`; anything else is cut short. */
async function describeFailure(response: Response): Promise<string> {
  const text = await response.text().catch(() => "");
  let described = text.slice(0, MAX_DETAIL_CHARS);
  try {
    const error = JSON.parse(text) as { code?: unknown; message?: unknown; more_info?: unknown };
    if (typeof error === "object" && error !== null && "code" in error) {
      const info = typeof error.more_info === "string" ? ` (${error.more_info})` : "";
      described = `code ${String(error.code)}: ${String(error.message).slice(0, MAX_DETAIL_CHARS)}${info}`;
    }
  } catch {
    // Not JSON (a proxy's HTML page, say): the truncated text is the best we have.
  }
  return `twilio answered ${response.status}: ${described}`;
}

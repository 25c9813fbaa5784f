import { createTransport } from "nodemailer";
import { EMAIL_PATTERN } from "../../../protocol/api/accounts.ts";
import { OtpDeliveryError, type OtpMessage, type OtpSender, otpText, redact } from "./types.ts";

/** Time to open the TCP/TLS connection and to get the server's greeting. */
export const SMTP_CONNECT_TIMEOUT_MS = 10_000;
/** Inactivity on an open connection before it counts as dead. */
export const SMTP_SOCKET_TIMEOUT_MS = 30_000;
/** Codes come in bursts at most; a couple of reused connections spare TLS and AUTH each time. */
const MAX_CONNECTIONS = 2;
const SUBJECT = "Your Parley code";
const SAFE_MESSAGE = "The code could not be sent by email.";
/**
 * One plain address and nothing else (a list would send a code to several people): the
 * API's own pattern, checked again here in case a caller did not come through the API.
 */
const SINGLE_ADDRESS = new RegExp(EMAIL_PATTERN);

/** Settings of the SMTP sender (config keys `smtp.*`). */
export interface SmtpOptions {
  host: string;
  port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS is used when the server offers it. */
  secure: boolean;
  /** Empty: no AUTH. */
  username: string;
  password: string;
  /** Sender, e.g. `Parley <noreply@chat.example.org>`. */
  from: string;
}

/**
 * Sends codes by plain-text email through an SMTP server, with nodemailer's pooled
 * transport. close() closes the pool's connections.
 */
export function smtpSender(options: SmtpOptions): OtpSender {
  const transport = createTransport({
    pool: true,
    maxConnections: MAX_CONNECTIONS,
    host: options.host,
    port: options.port,
    secure: options.secure,
    auth: options.username === "" ? undefined : { user: options.username, pass: options.password },
    connectionTimeout: SMTP_CONNECT_TIMEOUT_MS,
    greetingTimeout: SMTP_CONNECT_TIMEOUT_MS,
    socketTimeout: SMTP_SOCKET_TIMEOUT_MS,
  });

  async function send(message: OtpMessage): Promise<void> {
    if (message.channel !== "email") {
      throw new OtpDeliveryError(SAFE_MESSAGE, `smtp sends email only, not ${message.channel}`);
    }
    if (!SINGLE_ADDRESS.test(message.to)) {
      throw new OtpDeliveryError(
        "The email address is not valid.",
        "destination is not a single plain address",
      );
    }
    const text = `${otpText(message.code, message.expiresInMinutes)}\n\nIf you did not ask for this code, ignore this email.\n`;
    try {
      await transport.sendMail({
        from: options.from,
        to: message.to,
        subject: SUBJECT,
        text,
      });
    } catch (err) {
      throw new OtpDeliveryError(
        SAFE_MESSAGE,
        redact(describeSmtpError(err), [options.password, message.code, message.to]),
      );
    }
  }

  async function close(): Promise<void> {
    transport.close();
  }

  return { channels: ["email"], send, close };
}

/** nodemailer's errors carry a code (ECONNECTION, EAUTH, EENVELOPE…) and the server's reply. */
function describeSmtpError(err: unknown): string {
  if (!(err instanceof Error)) return `smtp send failed: ${String(err)}`;
  const e = err as Error & { code?: unknown; command?: unknown; responseCode?: unknown };
  const parts = [
    typeof e.code === "string" ? e.code : e.name,
    typeof e.command === "string" ? `after ${e.command}` : undefined,
    typeof e.responseCode === "number" ? `reply ${e.responseCode}` : undefined,
  ].filter((p) => p !== undefined);
  return `smtp send failed (${parts.join(", ")}): ${e.message}`;
}

import { Type } from "@sinclair/typebox";
import { literalUnion, secret } from "./helpers.ts";

export const REGISTRATION_MODES = ["invite", "open", "otp"] as const;
export const OTP_PROVIDERS = ["none", "twilio", "smtp", "console"] as const;
/** Signal's limit: devices per account, the primary included. */
export const DEFAULT_MAX_DEVICES = 6;
/** The ceiling for access tokens (JWT, EdDSA). */
export const MAX_ACCESS_TOKEN_TTL_S = 15 * 60;
export const DEFAULT_REFRESH_TOKEN_TTL_DAYS = 60;

/** Registration, sign-in, one-time codes and the user directory. */
export const accountKeys = {
  registration: Type.Object(
    {
      mode: literalUnion(REGISTRATION_MODES, {
        default: "invite",
        description:
          "invite: an invite code from an admin is needed to register. open: anyone may register. otp: a phone number or email address, verified with a one-time code, is needed.",
      }),
      max_devices: Type.Integer({
        minimum: 1,
        maximum: 16,
        default: DEFAULT_MAX_DEVICES,
        description: "Devices an account may have at once, the first one included.",
      }),
    },
    { default: {} },
  ),
  otp: Type.Object(
    {
      provider: literalUnion(OTP_PROVIDERS, {
        default: "none",
        description:
          "How one-time codes are sent: twilio (SMS), smtp (email), console (printed in the server log, for development only), or none.",
      }),
    },
    { default: {} },
  ),
  twilio: Type.Object(
    {
      account_sid: Type.String({ default: "", description: "Twilio account SID, for SMS codes." }),
      auth_token: Type.String({ default: "", ...secret, description: "Twilio auth token." }),
      from: Type.String({
        default: "",
        description: "Sending phone number (E.164) or messaging service SID.",
      }),
      api_url: Type.String({
        default: "https://api.twilio.com",
        description: "Twilio REST API base URL (changed only for testing).",
      }),
    },
    { default: {} },
  ),
  smtp: Type.Object(
    {
      host: Type.String({ default: "", description: "SMTP server for email codes." }),
      port: Type.Integer({
        minimum: 1,
        maximum: 65535,
        default: 587,
        description: "SMTP port (587 submission with STARTTLS, 465 TLS).",
      }),
      secure: Type.Boolean({
        default: false,
        description: "Connect with TLS from the start (port 465) instead of STARTTLS.",
      }),
      username: Type.String({ default: "", description: "SMTP user name; empty for none." }),
      password: Type.String({ default: "", ...secret, description: "SMTP password." }),
      from: Type.String({
        default: "",
        description: "Sender address of code emails, e.g. Parley <noreply@chat.example.org>.",
      }),
    },
    { default: {} },
  ),
  auth: Type.Object(
    {
      access_token_ttl_s: Type.Integer({
        minimum: 30,
        maximum: MAX_ACCESS_TOKEN_TTL_S,
        default: MAX_ACCESS_TOKEN_TTL_S,
        description: "Lifetime of access tokens, in seconds (at most 900).",
      }),
      refresh_token_ttl_days: Type.Integer({
        minimum: 1,
        maximum: 365,
        default: DEFAULT_REFRESH_TOKEN_TTL_DAYS,
        description:
          "A device that does not refresh its tokens for this long must sign in again with its device secret.",
      }),
    },
    { default: {} },
  ),
  directory: Type.Object(
    {
      search: Type.Boolean({
        default: true,
        description:
          "Let signed-in users search usernames by part of the name. Lookup by exact username always works.",
      }),
      meilisearch_url: Type.String({
        default: "",
        description:
          "Meilisearch server for the directory search; empty: SQLite full-text search. Reindexed from the database at start; while it is unreachable, searches use SQLite.",
      }),
      meilisearch_key: Type.String({ default: "", ...secret, description: "Meilisearch API key." }),
    },
    { default: {} },
  ),
  admin: Type.Object(
    {
      socket: Type.String({
        default: "",
        description: "Unix socket of the admin API (mode 0600). Empty: <data_dir>/admin.sock.",
      }),
    },
    { default: {} },
  ),
};

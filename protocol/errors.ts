/**
 * The one error catalogue of Parley, for the API and for the end-to-end protocol. Every API
 * error body is `{ code, message, requestId?, details? }`; clients map `code`, never
 * `message`. Codes are stable: add new ones, never rename or reuse one. `status` is what the
 * server answers when it raises the code (protocol codes too: it verifies certificates,
 * device lists and membership logs it stores).
 */
export const ERROR_CATALOGUE = {
  // Generic request errors.
  invalid_request: { status: 400, message: "The request is not valid." },
  malformed_body: { status: 400, message: "The request body could not be parsed." },
  unauthorized: { status: 401, message: "Authentication is required." },
  forbidden: { status: 403, message: "You are not allowed to do this." },
  not_found: { status: 404, message: "No such API route." },
  method_not_allowed: { status: 405, message: "This method is not allowed here." },
  payload_too_large: { status: 413, message: "The request body is too large." },
  unsupported_media_type: { status: 415, message: "This content type is not accepted." },
  rate_limited: { status: 429, message: "Too many requests; slow down and retry later." },

  // Server state.
  internal: { status: 500, message: "Something went wrong on the server." },
  not_ready: { status: 503, message: "The server is not ready to serve requests." },
  timeout: { status: 503, message: "The server took too long to answer; retry shortly." },
  shutting_down: { status: 503, message: "The server is shutting down; retry shortly." },

  // Operations endpoints.
  metrics_token_required: {
    status: 401,
    message: "Metrics need a valid bearer token from outside this host.",
  },
  metrics_disabled_remotely: {
    status: 403,
    message: "Metrics are only served to loopback; set metrics.token to scrape from elsewhere.",
  },
  web_client_missing: {
    status: 503,
    message: "The web client is not built into this server (run `npm run build:web`).",
  },

  // End-to-end protocol (protocol/). Every failure to decrypt or authenticate a message is
  // `decrypt_failed`, whatever the cause, so callers cannot be used as an oracle; only a
  // duplicate and an untrusted identity are told apart.
  malformed_message: { status: 400, message: "The message is not in a format this version reads." },
  decrypt_failed: { status: 422, message: "The message could not be decrypted." },
  duplicate_message: { status: 409, message: "This message was already received." },
  untrusted_identity: {
    status: 409,
    message: "The contact's identity key changed; check the safety number.",
  },
  invalid_key: { status: 400, message: "A key is not valid." },
  invalid_signature: { status: 422, message: "A signature does not verify." },
  invalid_certificate: { status: 400, message: "A device certificate is not valid." },
  device_list_rollback: {
    status: 409,
    message: "This device list is older than one already seen.",
  },
  device_list_expired: { status: 400, message: "This device list has expired." },
  membership_log_invalid: {
    status: 409,
    message: "The group's membership log is broken or was cut short.",
  },
  stale_key: { status: 409, message: "This key version is closed." },
  limit_exceeded: { status: 422, message: "A protocol limit was exceeded." },

  // Accounts, sign-in and devices.
  invalid_token: { status: 401, message: "The access token is not valid; sign in again." },
  token_expired: { status: 401, message: "The access token has expired; refresh it." },
  device_revoked: { status: 401, message: "This device was removed from the account." },
  refresh_token_invalid: { status: 401, message: "The refresh token is not valid; sign in again." },
  refresh_token_reused: {
    status: 401,
    message: "This refresh token was already used; this device's sessions were closed for safety.",
  },
  sign_in_failed: { status: 401, message: "The device id or secret is wrong." },
  ticket_invalid: {
    status: 401,
    message: "The connection ticket is not valid or was already used.",
  },
  account_disabled: { status: 403, message: "This account is disabled." },
  registration_closed: {
    status: 403,
    message: "This server does not accept this kind of registration.",
  },
  invite_invalid: {
    status: 403,
    message: "The invite code is not valid, used up, revoked or expired.",
  },
  otp_invalid: { status: 403, message: "The code is wrong or has expired." },
  otp_attempts_exceeded: { status: 403, message: "Too many wrong codes; ask for a new one." },
  otp_unavailable: { status: 503, message: "This server cannot send codes right now." },
  second_factor_required: {
    status: 403,
    message: "This account has two-factor authentication: give its code or a recovery code.",
  },
  second_factor_invalid: { status: 403, message: "The two-factor code or recovery code is wrong." },
  username_taken: { status: 409, message: "This username is taken." },
  user_exists: { status: 409, message: "An account with this id, phone or email already exists." },
  device_exists: { status: 409, message: "A device or key with this id already exists." },
  device_limit: {
    status: 409,
    message: "This account has as many devices as allowed; remove one first.",
  },
  stale_device_list: {
    status: 409,
    message: "The device list does not follow the current one; fetch it and try again.",
  },
  user_not_found: { status: 404, message: "No such user." },
  device_not_found: { status: 404, message: "No such device on this account." },
  directory_disabled: {
    status: 403,
    message: "The user directory search is turned off on this server.",
  },
  provisioning_not_found: {
    status: 404,
    message: "This link request does not exist or has expired.",
  },
  totp_not_enrolled: { status: 409, message: "Two-factor authentication is not set up." },
  totp_already_enrolled: { status: 409, message: "Two-factor authentication is already set up." },
  // Messaging
  conversation_not_found: { status: 404, message: "No such conversation." },
  not_a_member: { status: 403, message: "You are not a member of this conversation." },
  posting_restricted: {
    status: 403,
    message: "Only the group's admins can post while it is announcements-only.",
  },
  blocked: { status: 403, message: "This user does not accept your messages." },
  message_not_found: { status: 404, message: "No such message." },
  message_id_conflict: {
    status: 409,
    message: "This message id is already used by another message.",
  },
  stale_membership: {
    status: 409,
    message: "The group changed meanwhile; fetch its membership log and try again.",
  },
  conversation_exists: { status: 409, message: "A conversation with this id already exists." },
} as const satisfies Record<string, { status: number; message: string }>;

/** A stable machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The JSON body of every API error response. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  requestId?: string;
  /** Which input failed, e.g. `body.username`; never secrets or user content. */
  details?: { field?: string };
}

/** True when `code` names an entry of the catalogue. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "string" && Object.hasOwn(ERROR_CATALOGUE, code);
}

/**
 * An error with a catalogue code: thrown by the server to answer a request, by the sdk when
 * the server answers with an error body, and by the protocol when input is refused.
 * `message` is safe to show to a person. `detail` says what exactly went wrong, for debug
 * logs only: it never reaches a response body or the message a caller shows.
 */
export class ParleyError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;
  readonly detail: string | undefined;
  /** For `rate_limited`: how long to wait before retrying (the Retry-After header). */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: ErrorCode,
    message?: string,
    options?: { field?: string; detail?: string; cause?: unknown; retryAfterMs?: number },
  ) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options?.cause });
    this.name = "ParleyError";
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.field = options?.field;
    this.detail = options?.detail;
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** The response body for this error. */
  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (requestId) body.requestId = requestId;
    if (this.field) body.details = { field: this.field };
    return body;
  }
}

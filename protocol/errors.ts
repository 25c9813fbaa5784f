/**
 * The one error catalogue of Parley. Every API error body is
 * `{ code, message, requestId? , details? }`; clients map `code`, never `message`.
 * Codes are stable: add new ones, never rename or reuse one.
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
 * An error with a catalogue code. Thrown by the server to answer a request, and by the
 * sdk when the server answers with an error body. `message` is safe to show to a person.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly field: string | undefined;

  constructor(code: ErrorCode, message?: string, options?: { field?: string; cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[code].message, { cause: options?.cause });
    this.name = "ApiError";
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.field = options?.field;
  }

  /** The response body for this error. */
  toBody(requestId?: string): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.message };
    if (requestId) body.requestId = requestId;
    if (this.field) body.details = { field: this.field };
    return body;
  }
}

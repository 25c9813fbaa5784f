import { ValidationError } from "elysia";
import { ParleyError } from "../../protocol/errors.ts";
import type { Logger } from "../lib/log.ts";

/**
 * Maps anything a route throws to an ParleyError: the client gets a catalogue code and a safe
 * message, never a stack; the cause of an unexpected error goes to the log only.
 */
export function toApiError(code: string | number, error: unknown, log: Logger): ParleyError {
  if (error instanceof ParleyError) return error;
  if (error instanceof ValidationError || code === "VALIDATION") {
    return validationError(error as ValidationError);
  }
  switch (code) {
    case "PARSE":
      // Elysia wraps what a body parser throws (json-body.ts throws catalogue errors).
      return (error as { cause?: unknown }).cause instanceof ParleyError
        ? (error as { cause: ParleyError }).cause
        : new ParleyError("malformed_body");
    case "NOT_FOUND":
      return new ParleyError("not_found");
    case "INVALID_COOKIE_SIGNATURE":
      return new ParleyError("invalid_request", "A cookie was not valid.");
  }
  // A chunked body that outgrows http.max_body_bytes fails while the handler reads it;
  // Bun has already answered 413 by then. It is the client's error, not a bug to log.
  if (error instanceof Error && error.message.includes("exceeded maxRequestBodySize")) {
    return new ParleyError("payload_too_large");
  }
  log.error("unhandled error", { error });
  return new ParleyError("internal");
}

function validationError(error: ValidationError): ParleyError {
  const first = error.all?.[0] as { path?: string; summary?: string; message?: string } | undefined;
  const where = (error.type ?? "body") as string;
  const path = first?.path ? `${where}${first.path.replaceAll("/", ".")}` : where;
  const reason = first?.summary ?? first?.message ?? "is not valid";
  return new ParleyError("invalid_request", `${path}: ${reason}`, { field: path });
}

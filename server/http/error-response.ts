import { ValidationError } from "elysia";
import { ApiError } from "../../protocol/errors.ts";
import type { Logger } from "../lib/log.ts";

/**
 * Maps anything a route throws to an ApiError: the client gets a catalogue code and a safe
 * message, never a stack; the cause of an unexpected error goes to the log only.
 */
export function toApiError(code: string | number, error: unknown, log: Logger): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ValidationError || code === "VALIDATION") {
    return validationError(error as ValidationError);
  }
  switch (code) {
    case "PARSE":
      return new ApiError("malformed_body");
    case "NOT_FOUND":
      return new ApiError("not_found");
    case "INVALID_COOKIE_SIGNATURE":
      return new ApiError("invalid_request", "A cookie was not valid.");
  }
  // Bun answers an over-long body before any route runs; keep the catalogue's shape.
  if (error instanceof Error && /body.*too large|payload too large/i.test(error.message)) {
    return new ApiError("payload_too_large");
  }
  log.error("unhandled error", { error });
  return new ApiError("internal");
}

function validationError(error: ValidationError): ApiError {
  const first = error.all?.[0] as { path?: string; summary?: string; message?: string } | undefined;
  const where = (error.type ?? "body") as string;
  const path = first?.path ? `${where}${first.path.replaceAll("/", ".")}` : where;
  const reason = first?.summary ?? first?.message ?? "is not valid";
  return new ApiError("invalid_request", `${path}: ${reason}`, { field: path });
}

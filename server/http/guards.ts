import { t } from "elysia";
import { ParleyError } from "../../protocol/errors.ts";
import type { Principal, TokenService } from "../domain/accounts/tokens.ts";
import type { RateLimiter } from "../domain/ports/rate-limit.ts";
import { requestMeta } from "./request-context.ts";

/**
 * A whole-number query parameter from 0 to `max`. Elysia's own numeric query coercion
 * reports a failure without the parameter's name, so the value is checked as digits here and
 * converted by `queryInteger`.
 */
export const QueryInteger = (max: number, description: string) =>
  t.Optional(t.String({ pattern: "^[0-9]{1,15}$", description: `${description} (0–${max})` }));

/** The value of a `QueryInteger` parameter (400 naming it when over `max`). */
export function queryInteger(value: string | undefined, max: number, name: string): number {
  const n = value === undefined ? 0 : Number(value);
  if (n > max) {
    throw new ParleyError("invalid_request", `query.${name}: must be at most ${max}`, {
      field: `query.${name}`,
    });
  }
  return n;
}

/** A body field that one variant of a request needs: 400 naming it when absent. */
export function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) {
    throw new ParleyError("invalid_request", `body.${name}: required`, { field: `body.${name}` });
  }
  return value;
}

/** The bearer token of a request, if any. */
export function bearerToken(request: Request): string | undefined {
  const header = request.headers.get("authorization") ?? "";
  return header.startsWith("Bearer ") ? header.slice(7).trim() || undefined : undefined;
}

/** The signed-in device of a request; 401 with a code otherwise. */
export async function requirePrincipal(request: Request, tokens: TokenService): Promise<Principal> {
  const token = bearerToken(request);
  if (!token) throw new ParleyError("unauthorized");
  return tokens.authenticate(token);
}

/** The client's address (after trusted proxies), for per-client limits. */
export function clientKey(request: Request): string {
  return requestMeta(request)?.client ?? "unknown";
}

/** Counts one event against a limit; 429 with Retry-After when over it. */
export async function enforceLimit(
  limiter: RateLimiter,
  key: string,
  limit: number,
  windowMs: number,
): Promise<void> {
  const decision = await limiter.hit(key, limit, windowMs);
  if (!decision.allowed)
    throw new ParleyError("rate_limited", undefined, { retryAfterMs: decision.retryAfterMs });
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

import { isErrorCode, ParleyError } from "../protocol/errors.ts";

/** The part of a fetch Response the sdk reads; injected so the sdk stays runtime-neutral. */
export interface HttpResponse {
  ok: boolean;
  status: number;
  json(): Promise<unknown>;
  headers?: { get(name: string): string | null };
}

/** A fetch-like function: the browser's `fetch`, Bun's, or a test double. */
export type HttpTransport = (
  url: string,
  init?: { method?: string; headers?: Record<string, string>; body?: string },
) => Promise<HttpResponse>;

/**
 * Reads a JSON API response: the body when the status is 2xx, else throws ParleyError with
 * the server's catalogue code (clients map codes, never messages).
 */
export async function readJson(response: HttpResponse): Promise<unknown> {
  const body = await response.json().catch(() => undefined);
  if (response.ok) return body;
  const { code, message, details } = (body ?? {}) as {
    code?: unknown;
    message?: unknown;
    details?: { field?: string };
  };
  if (isErrorCode(code)) {
    const retryAfter = Number(response.headers?.get("retry-after") ?? Number.NaN);
    throw new ParleyError(code, typeof message === "string" ? message : undefined, {
      field: details?.field,
      ...(Number.isFinite(retryAfter) ? { retryAfterMs: retryAfter * 1000 } : {}),
    });
  }
  throw new ParleyError(
    response.status >= 500 ? "internal" : "invalid_request",
    `HTTP ${response.status}`,
  );
}

import { openapi } from "@elysiajs/openapi";
import { type AnyElysia, Elysia } from "elysia";
import { API_PREFIX } from "../../protocol/api/version.ts";
import { ParleyError } from "../../protocol/errors.ts";
import type { Config } from "../config/schema.ts";
import type { ReadinessService } from "../domain/readiness.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import { clientAddress, TrustedProxies } from "./client-address.ts";
import { toApiError } from "./error-response.ts";
import { jsonBodyParser } from "./json-body.ts";
import { requestIdFrom, requestMeta, setRequestMeta } from "./request-context.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { securityHeaders } from "./security-headers.ts";
import { indexWebFiles, webShell } from "./web-shell.ts";

export interface AppDeps {
  config: Config;
  log: Logger;
  metrics: Metrics;
  readiness: ReadinessService;
  version: string;
  /** Directory of the built web client (web/dist, or embedded in the binary). */
  webDir: string;
  /** True once shutdown has begun: responses ask clients to reconnect elsewhere. */
  isDraining: () => boolean;
  /** Extra API routes mounted under /api/v1 (later issues; tests). */
  api?: AnyElysia[];
}

/** Bun's own request-body bound (its default); see `createApp`. */
const BUN_BODY_CEILING = 128 * 1024 * 1024;

/**
 * The HTTP application, testable in-process with `app.handle(request)`.
 * Order of one request: onRequest (id, client address, body limit, headers) → route
 * (validation, handler, deadline) → onError (catalogue body) → onAfterResponse (log, metrics).
 */
export function createApp(deps: AppDeps) {
  const { config, log, metrics } = deps;
  const trusted = new TrustedProxies(config.trusted_proxies);
  const headers = securityHeaders(config.tls.cert !== "");
  const maxBody = config.http.max_body_bytes;
  const webFiles = indexWebFiles(deps.webDir);
  if (webFiles.size === 0)
    log.warn("web client not found; serving the API only", { dir: deps.webDir });

  const api = new Elysia({ prefix: API_PREFIX }).onParse(jsonBodyParser(maxBody));
  for (const routes of deps.api ?? []) api.use(routes);

  // Bun answers a declared Content-Length over its own limit with a bare 413 before any hook
  // runs, so its limit is only the outer bound; `onRequest` below and `jsonBodyParser` hold
  // http.max_body_bytes with a catalogue error.
  return new Elysia({ serve: { maxRequestBodySize: Math.max(maxBody, BUN_BODY_CEILING) } })
    .onRequest(({ request, server, set }) => {
      const peer = server?.requestIP(request)?.address;
      const meta = {
        id: requestIdFrom(request.headers),
        startedAt: performance.now(),
        peer,
        client: clientAddress(peer, request.headers, trusted),
      };
      setRequestMeta(request, meta);
      Object.assign(set.headers, headers, { "x-request-id": meta.id });
      if (deps.isDraining()) set.headers.connection = "close";
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > maxBody) {
        set.status = 413;
        return new ParleyError("payload_too_large").toBody(meta.id);
      }
    })
    .onError(({ code, error, request, set }) => {
      const apiError = toApiError(code, error, log);
      set.status = apiError.status;
      if (apiError.retryAfterMs !== undefined) {
        set.headers["retry-after"] = String(Math.max(1, Math.ceil(apiError.retryAfterMs / 1000)));
      }
      return apiError.toBody(requestMeta(request)?.id);
    })
    .onAfterResponse((ctx) => {
      const meta = requestMeta(ctx.request);
      const value = (ctx as { responseValue?: unknown }).responseValue;
      const status = value instanceof Response ? value.status : Number(ctx.set.status ?? 200);
      const route = ctx.route || "unmatched";
      const method = ctx.request.method;
      const seconds = meta ? (performance.now() - meta.startedAt) / 1000 : 0;
      metrics.httpRequests.inc({ method, route, status: String(status) });
      metrics.httpDuration.observe({ method, route }, seconds);
      // Route pattern only: paths and queries may carry ids or one-time tickets.
      log.info("request", {
        id: meta?.id,
        method,
        route,
        status,
        ms: Math.round(seconds * 1000 * 10) / 10,
        ip: meta?.client,
      });
    })
    .use(
      openapi({
        provider: null,
        path: "/openapi",
        documentation: {
          info: {
            title: "Parley API",
            version: deps.version,
            description:
              "Errors are { code, message, requestId } with codes from protocol/errors.ts.",
          },
        },
      }),
    )
    .use(
      healthRoutes({
        version: deps.version,
        readiness: deps.readiness,
        timeoutMs: config.http.request_timeout_ms,
      }),
    )
    .use(metricsRoutes({ metrics, token: config.metrics.token }))
    .use(api)
    .use(webShell(webFiles));
}

export type App = ReturnType<typeof createApp>;

import { Elysia } from "elysia";
import { constantTimeEqualText } from "../../../protocol/crypto/constant-time.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { Metrics } from "../../lib/metrics.ts";
import { isDirectLoopback } from "../client-address.ts";
import { requestMeta } from "../request-context.ts";

/**
 * GET /metrics in Prometheus text format. Served without a token only to a request that
 * comes straight from loopback (no proxy headers): behind a proxy on the same host every
 * request looks local, and the proxy headers tell them apart.
 */
export function metricsRoutes(opts: { metrics: Metrics; token: string }) {
  return new Elysia({ name: "metrics" }).get(
    "/metrics",
    async ({ request, set }) => {
      const auth = request.headers.get("authorization") ?? "";
      const bearer = auth.startsWith("Bearer ") ? auth.slice(7) : "";
      const tokenOk = opts.token !== "" && constantTimeEqualText(bearer, opts.token);
      if (!tokenOk && !isDirectLoopback(requestMeta(request)?.peer, request.headers)) {
        throw new ParleyError(
          opts.token === "" ? "metrics_disabled_remotely" : "metrics_token_required",
        );
      }
      set.headers["content-type"] = opts.metrics.registry.contentType;
      set.headers["cache-control"] = "no-store";
      return await opts.metrics.registry.metrics();
    },
    { detail: { summary: "Prometheus metrics", tags: ["operations"] } },
  );
}

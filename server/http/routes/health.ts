import { Elysia } from "elysia";
import { ErrorResponse, HealthResponse, ReadyResponse } from "../../../protocol/api/system.ts";
import { API_VERSION } from "../../../protocol/api/version.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { ReadinessService } from "../../domain/readiness.ts";
import { withDeadline } from "../deadline.ts";

/** GET /health (the process answers) and GET /ready (it can serve: DB up, not draining). */
export function healthRoutes(opts: {
  version: string;
  readiness: ReadinessService;
  timeoutMs: number;
}) {
  return new Elysia({ name: "health" })
    .get(
      "/health",
      () => ({ status: "ok" as const, version: opts.version, apiVersion: API_VERSION }),
      { response: HealthResponse, detail: { summary: "Liveness", tags: ["operations"] } },
    )
    .get(
      "/ready",
      async () => {
        const state = await withDeadline(opts.timeoutMs, () => opts.readiness.check());
        if (!state.ready) {
          throw new ParleyError(state.reason === "draining" ? "shutting_down" : "not_ready");
        }
        return { status: "ready" as const };
      },
      {
        response: { 200: ReadyResponse, 503: ErrorResponse },
        detail: { summary: "Readiness for load balancers", tags: ["operations"] },
      },
    );
}

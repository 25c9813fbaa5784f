import { type Static, Type } from "@sinclair/typebox";

/** `GET /health`: the process is up and answering. */
export const HealthResponse = Type.Object({
  status: Type.Literal("ok"),
  version: Type.String({ description: "Parley release, e.g. 0.1.0" }),
  apiVersion: Type.Integer({ description: "API major version (the /api/vN prefix)" }),
});
export type HealthResponse = Static<typeof HealthResponse>;

/** `GET /ready`: the process can serve requests (database reachable, not draining). */
export const ReadyResponse = Type.Object({ status: Type.Literal("ready") });
export type ReadyResponse = Static<typeof ReadyResponse>;

/** The body of every API error (see protocol/errors.ts). */
export const ErrorResponse = Type.Object({
  code: Type.String(),
  message: Type.String(),
  requestId: Type.Optional(Type.String()),
  details: Type.Optional(Type.Object({ field: Type.Optional(Type.String()) })),
});

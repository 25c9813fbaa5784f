import { Elysia, t } from "elysia";
import { Bytes, Id } from "../../../protocol/api/accounts.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import { MAX_PROVISIONING_ENVELOPE_BYTES } from "../../domain/accounts/provisioning.ts";
import { clientKey, enforceLimit, HOUR, QueryInteger, queryInteger } from "../guards.ts";
import { type AccountRoutesDeps, routeKit } from "./context.ts";

/** How long a GET may wait for the envelope (long polling; exempt from the API deadline). */
export const PROVISIONING_MAX_WAIT_S = 30;

/** The relay of the provisioning envelope to a device being linked. */
export function provisioningRoutes(deps: AccountRoutesDeps) {
  const { deadline, signedIn } = routeKit(deps);
  const tags = ["devices"];
  const SlotParams = t.Object({ slotId: Id("The slot the new device opened") });
  return new Elysia({ name: "provisioning" })
    .post(
      "/provisioning",
      async ({ request, set }) =>
        deadline(async () => {
          await enforceLimit(
            deps.limiter,
            `provision:${clientKey(request)}`,
            deps.config.limits.registrations_per_hour,
            HOUR,
          );
          set.status = 201;
          return deps.provisioning.open();
        }),
      {
        detail: {
          summary: "The new device opens a slot for its provisioning envelope (valid 10 minutes)",
          tags,
        },
      },
    )
    .put(
      "/provisioning/:slotId",
      async ({ params, body, request, set }) =>
        deadline(async () => {
          await signedIn(request, "protocol");
          await deps.provisioning.put(params.slotId, body.envelope);
          set.status = 204;
        }),
      {
        params: SlotParams,
        body: t.Object({
          envelope: Bytes(MAX_PROVISIONING_ENVELOPE_BYTES, "The sealed provisioning message"),
        }),
        detail: {
          summary: "An existing device sends the sealed envelope (the server cannot read it)",
          tags,
        },
      },
    )
    .get(
      "/provisioning/:slotId",
      async ({ params, query, headers, request, set }) => {
        const readToken = headers["x-read-token"];
        if (!readToken)
          throw new ParleyError("unauthorized", "Send the slot's read token in X-Read-Token.");
        const envelope = await deps.provisioning.take(params.slotId, readToken, {
          waitMs: queryInteger(query.wait, PROVISIONING_MAX_WAIT_S, "wait") * 1000,
          // The client hung up: stop waiting (and leave the envelope in the slot).
          signal: request.signal,
        });
        if (envelope) return { envelope };
        set.status = 204;
      },
      {
        params: SlotParams,
        query: t.Object({
          wait: QueryInteger(PROVISIONING_MAX_WAIT_S, "Seconds to wait for the envelope"),
        }),
        detail: {
          summary:
            "The new device takes the envelope, waiting up to `wait` seconds (204 while none)",
          description:
            "One waiting request per slot: a newer GET for the same slot ends the older one " +
            "at once with 204 (a client retrying after a lost connection is never refused). " +
            "Waiting only reads the slot; a PUT on the same node answers the waiter at once.",
          tags,
        },
      },
    );
}

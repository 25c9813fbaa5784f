import { Elysia, t } from "elysia";
import { Id, KeyUpload, UserKeys } from "../../../protocol/api/accounts.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import { enforceLimit, MINUTE } from "../guards.ts";
import { type AccountRoutesDeps, routeKit } from "./context.ts";

/** The key directory: publishing prekeys and fetching another user's bundles. */
export function keyRoutes(deps: AccountRoutesDeps) {
  const { deadline, signedIn } = routeKit(deps);
  const tags = ["keys"];
  return new Elysia({ name: "keys" })
    .put(
      "/keys",
      async ({ body, request, set }) =>
        deadline(async () => {
          await deps.keys.upload(await signedIn(request, "protocol"), body);
          set.status = 204;
        }),
      {
        body: KeyUpload,
        detail: { summary: "Publish prekeys (every signature is checked: 422 on a bad one)", tags },
      },
    )
    .get(
      "/keys/count",
      async ({ request }) =>
        deadline(async () => deps.keys.counts(await signedIn(request, "protocol"))),
      {
        detail: { summary: "How many prekeys this device has left", tags },
      },
    )
    .get(
      "/users/:userId/keys",
      async ({ params, query, request }) =>
        deadline(async () => {
          const me = await signedIn(request, "protocol");
          // Fetching bundles spends other people's one-time keys: limit it per user.
          await enforceLimit(
            deps.limiter,
            `key-fetch:${me.userId}`,
            deps.config.limits.key_fetches_per_minute,
            MINUTE,
          );
          return deps.keys.fetch(params.userId as UserId, query.deviceId as DeviceId | undefined);
        }),
      {
        params: t.Object({ userId: Id("The user") }),
        query: t.Object({ deviceId: t.Optional(Id("Only this device")) }),
        response: { 200: UserKeys },
        detail: {
          summary: "A user's devices' key bundles; each one-time key is handed out once",
          tags,
        },
      },
    );
}

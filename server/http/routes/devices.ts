import { Elysia, t } from "elysia";
import { Bytes, Id, LinkDeviceRequest, Tokens } from "../../../protocol/api/accounts.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import { clientKey, enforceLimit, HOUR, QueryInteger, queryInteger } from "../guards.ts";
import { type AccountRoutesDeps, routeKit } from "./context.ts";

const DeviceParams = t.Object({ deviceId: Id("A device of this account") });

/** Linking, listing, renaming and revoking devices; the signed device lists. */
export function deviceRoutes(deps: AccountRoutesDeps) {
  const { deadline, signedIn } = routeKit(deps);
  const tags = ["devices"];
  return new Elysia({ name: "devices" })
    .post(
      "/devices",
      async ({ body, request, set }) =>
        deadline(async () => {
          await enforceLimit(
            deps.limiter,
            `register:${clientKey(request)}`,
            deps.config.limits.registrations_per_hour,
            HOUR,
          );
          const tokens = await deps.devices.link(body);
          set.status = 201;
          return tokens;
        }),
      {
        body: LinkDeviceRequest,
        response: { 201: Tokens },
        detail: {
          summary: "A linked device registers itself with the device list that adds it",
          tags,
        },
      },
    )
    .get(
      "/devices",
      async ({ request }) => deadline(async () => deps.devices.list(await signedIn(request))),
      {
        detail: { summary: "This account's devices", tags },
      },
    )
    .patch(
      "/devices/:deviceId",
      async ({ params, body, request, set }) =>
        deadline(async () => {
          await deps.devices.rename(
            await signedIn(request),
            params.deviceId as DeviceId,
            body.nameCiphertext,
          );
          set.status = 204;
        }),
      {
        params: DeviceParams,
        body: t.Object({ nameCiphertext: t.Optional(Bytes(512, "The new name, encrypted")) }),
        detail: { tags },
      },
    )
    .delete(
      "/devices/:deviceId",
      async ({ params, body, request, set }) =>
        deadline(async () => {
          await deps.devices.revoke(
            await signedIn(request),
            params.deviceId as DeviceId,
            body.deviceList,
          );
          set.status = 204;
        }),
      {
        params: DeviceParams,
        body: t.Object({
          deviceList: Bytes(8192, "The next device-list version, without this device"),
        }),
        detail: { summary: "Remove a device: its keys, tokens and inbox go", tags },
      },
    )
    .get(
      "/users/:userId/device-lists",
      async ({ params, query, request }) =>
        deadline(async () => {
          await signedIn(request, "protocol");
          return {
            lists: await deps.devices.deviceLists(
              params.userId as UserId,
              queryInteger(query.since, Number.MAX_SAFE_INTEGER, "since"),
            ),
          };
        }),
      {
        params: t.Object({ userId: Id("The user") }),
        query: t.Object({
          since: QueryInteger(Number.MAX_SAFE_INTEGER, "Versions after this one"),
        }),
        detail: {
          summary: "A user's signed device lists after version `since` (the newest last)",
          tags,
        },
      },
    );
}

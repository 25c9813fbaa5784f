import { Elysia, t } from "elysia";
import { Bytes, Id, USERNAME_PATTERN } from "../../../protocol/api/accounts.ts";
import type { UserId } from "../../../protocol/identity/ids.ts";
import { type AccountRoutesDeps, routeKit } from "./context.ts";

const UserParams = t.Object({ userId: Id("The user") });

/** Looking people up, and this user's contacts and blocks. */
export function userRoutes(deps: AccountRoutesDeps) {
  const { deadline, signedIn } = routeKit(deps);
  const tags = ["users"];
  return new Elysia({ name: "users" })
    .get(
      "/users/by-username/:username",
      async ({ params, request }) =>
        deadline(async () => deps.directory.byUsername(await signedIn(request), params.username)),
      {
        params: t.Object({ username: t.String({ pattern: USERNAME_PATTERN }) }),
        detail: { summary: "Find a user by exact username", tags },
      },
    )
    .get(
      "/users/search",
      async ({ query, request }) =>
        deadline(async () => {
          await signedIn(request);
          return { users: await deps.directory.search(query.q) };
        }),
      {
        query: t.Object({ q: t.String({ maxLength: 32 }) }),
        detail: { summary: "Search usernames (when the admin allows it)", tags },
      },
    )
    .get(
      "/users/:userId",
      async ({ params, request }) =>
        deadline(async () => deps.directory.byId(await signedIn(request), params.userId as UserId)),
      {
        params: UserParams,
        detail: {
          summary: "A user's public profile (ciphertext) and last seen, as they allow",
          tags,
        },
      },
    )
    .get(
      "/contacts",
      async ({ request }) =>
        deadline(async () => ({
          contacts: await deps.contacts.list(await signedIn(request)),
        })),
      {
        detail: { summary: "Your contacts and blocks", tags },
      },
    )
    .put(
      "/contacts/:userId",
      async ({ params, body, request, set }) =>
        deadline(async () => {
          await deps.contacts.put(await signedIn(request), params.userId as UserId, body);
          set.status = 204;
        }),
      {
        params: UserParams,
        body: t.Object({
          nicknameCiphertext: t.Optional(
            t.Union([Bytes(1024, "A nickname only your devices can read"), t.Null()]),
          ),
          blocked: t.Optional(t.Boolean()),
        }),
        detail: { summary: "Add or change a contact; block or unblock", tags },
      },
    )
    .delete(
      "/contacts/:userId",
      async ({ params, request, set }) =>
        deadline(async () => {
          await deps.contacts.remove(await signedIn(request), params.userId as UserId);
          set.status = 204;
        }),
      { params: UserParams, detail: { tags } },
    );
}

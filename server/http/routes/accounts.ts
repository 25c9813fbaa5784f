import { Elysia, t } from "elysia";
import {
  Bytes,
  OtpRequest,
  RegisterRequest,
  TokenRequest,
  Tokens,
} from "../../../protocol/api/accounts.ts";
import { fromBase64Url } from "../../../protocol/api/base64.ts";
import type { DeviceId } from "../../../protocol/identity/ids.ts";
import { clientKey, enforceLimit, HOUR, MINUTE, required } from "../guards.ts";
import { type AccountRoutesDeps, routeKit } from "./context.ts";

/** Registration, sign-in, the account itself, TOTP and one-time codes. */
export function accountRoutes(deps: AccountRoutesDeps) {
  const { deadline, signedIn } = routeKit(deps);
  const { limits } = deps.config;
  const tags = ["accounts"];
  return new Elysia({ name: "accounts" })
    .post(
      "/accounts",
      async ({ body, request, set }) =>
        deadline(async () => {
          await enforceLimit(
            deps.limiter,
            `register:${clientKey(request)}`,
            limits.registrations_per_hour,
            HOUR,
          );
          const tokens = await deps.registration.register(body);
          set.status = 201;
          return tokens;
        }),
      {
        body: RegisterRequest,
        detail: {
          summary: "Create an account (or reset its identity) with its first device",
          tags,
        },
      },
    )
    .post(
      "/auth/token",
      async ({ body, request }) =>
        deadline(async () => {
          const refresh = body.grant === "refresh";
          await enforceLimit(
            deps.limiter,
            `${refresh ? "refresh" : "sign-in"}:${clientKey(request)}`,
            refresh ? limits.refreshes_per_minute : limits.sign_ins_per_minute,
            MINUTE,
          );
          if (refresh) return deps.tokens.refresh(required(body.refreshToken, "refreshToken"));
          return deps.tokens.signIn(
            required(body.deviceId, "deviceId") as DeviceId,
            fromBase64Url(required(body.secret, "secret"), "body.secret"),
          );
        }),
      {
        body: TokenRequest,
        response: { 200: Tokens },
        detail: { summary: "Sign a device in, or rotate its refresh token", tags },
      },
    )
    .post(
      "/ws/tickets",
      async ({ request }) =>
        deadline(async () => {
          const me = await signedIn(request);
          const ticket = await deps.tokens.wsTicket(me);
          return ticket;
        }),
      { detail: { summary: "A one-time ticket to open the WebSocket (valid 30 s)", tags } },
    )
    .get(
      "/account",
      async ({ request }) => deadline(async () => deps.account.me(await signedIn(request))),
      {
        detail: { summary: "This account", tags },
      },
    )
    .put(
      "/account/profile",
      async ({ body, request, set }) =>
        deadline(async () => {
          await deps.account.setProfile(await signedIn(request), body.profileCiphertext);
          set.status = 204;
        }),
      {
        body: t.Object({
          profileCiphertext: Bytes(64 * 1024, "Name, avatar and status under the profile key"),
        }),
        detail: { tags },
      },
    )
    .put(
      "/account/settings",
      async ({ body, request, set }) =>
        deadline(async () => {
          await deps.account.setLastSeenVisibility(
            await signedIn(request),
            body.lastSeenVisibility,
          );
          set.status = 204;
        }),
      {
        body: t.Object({
          lastSeenVisibility: t.Union([
            t.Literal("everyone"),
            t.Literal("contacts"),
            t.Literal("nobody"),
          ]),
        }),
        detail: { summary: "Who sees when you were last online", tags },
      },
    )
    .delete(
      "/account",
      async ({ request, set }) =>
        deadline(async () => {
          await deps.account.deleteAccount(await signedIn(request));
          set.status = 204;
        }),
      { detail: { summary: "Delete this account: keys, devices, tokens and profile go", tags } },
    )
    .post(
      "/account/totp",
      async ({ request }) =>
        deadline(async () => {
          const me = await signedIn(request);
          const account = await deps.account.me(me);
          return deps.totp.begin(me.userId, account.username);
        }),
      {
        detail: {
          summary: "Start two-factor enrolment: a secret and an otpauth:// URI for a QR code",
          tags,
        },
      },
    )
    .post(
      "/account/totp/confirm",
      async ({ body, request }) =>
        deadline(async () => deps.totp.confirm((await signedIn(request)).userId, body.code)),
      {
        body: t.Object({ code: t.String({ pattern: "^[0-9]{6}$" }) }),
        detail: { summary: "Confirm enrolment; returns recovery codes once", tags },
      },
    )
    .delete(
      "/account/totp",
      async ({ body, request, set }) =>
        deadline(async () => {
          await deps.totp.disable((await signedIn(request)).userId, body.code);
          set.status = 204;
        }),
      { body: t.Object({ code: t.String({ pattern: "^[0-9]{6}$" }) }), detail: { tags } },
    )
    .post(
      "/otp",
      async ({ body, request, set }) =>
        deadline(async () => {
          await enforceLimit(
            deps.limiter,
            `otp-ip:${clientKey(request)}`,
            limits.otp_per_hour,
            HOUR,
          );
          await enforceLimit(
            deps.limiter,
            `otp-to:${await deps.otp.limitKeyFor(body)}`,
            limits.otp_per_hour,
            HOUR,
          );
          set.status = 201;
          return deps.otp.request(body);
        }),
      {
        body: OtpRequest,
        detail: { summary: "Send a one-time code to a phone number or email address", tags },
      },
    );
}

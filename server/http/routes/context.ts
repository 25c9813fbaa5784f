import type { Config } from "../../config/schema.ts";
import type { AccountService } from "../../domain/accounts/account.ts";
import type { ContactsService } from "../../domain/accounts/contacts.ts";
import type { DeviceService } from "../../domain/accounts/devices.ts";
import type { DirectoryService } from "../../domain/accounts/directory.ts";
import type { InviteService } from "../../domain/accounts/invites.ts";
import type { KeyService } from "../../domain/accounts/keys.ts";
import type { OtpService } from "../../domain/accounts/otp.ts";
import type { ProvisioningService } from "../../domain/accounts/provisioning.ts";
import type { RegistrationService } from "../../domain/accounts/registration.ts";
import type { Principal, TokenService } from "../../domain/accounts/tokens.ts";
import type { TotpService } from "../../domain/accounts/totp.ts";
import type { RateLimiter } from "../../domain/ports/rate-limit.ts";
import { withDeadline } from "../deadline.ts";
import { enforceLimit, MINUTE, requirePrincipal } from "../guards.ts";

/** What the account routes need: the services, the limiter and the limits. */
export interface AccountRoutesDeps {
  config: Config;
  tokens: TokenService;
  registration: RegistrationService;
  devices: DeviceService;
  keys: KeyService;
  directory: DirectoryService;
  contacts: ContactsService;
  account: AccountService;
  totp: TotpService;
  otp: OtpService;
  invites: InviteService;
  provisioning: ProvisioningService;
  limiter: RateLimiter;
  now: () => number;
}

/** Helpers every route file uses: the deadline, and sign-in plus the per-user limit. */
export function routeKit(deps: Pick<AccountRoutesDeps, "config" | "tokens" | "limiter">) {
  const { limits, http } = deps.config;
  return {
    /** Runs a JSON handler under the request deadline (503 `timeout` past it). */
    deadline: <T>(work: () => Promise<T>) => withDeadline(http.request_timeout_ms, work),
    /**
     * The signed-in device, counted against its user's per-minute limit: `api` for
     * ordinary requests, `protocol` for key and acknowledgement traffic (a larger budget, so
     * it is never starved by the rest).
     */
    async signedIn(request: Request, budget: "api" | "protocol" = "api"): Promise<Principal> {
      const principal = await requirePrincipal(request, deps.tokens);
      const limit = budget === "api" ? limits.requests_per_minute : limits.protocol_per_minute;
      await enforceLimit(deps.limiter, `${budget}:${principal.userId}`, limit, MINUTE);
      return principal;
    },
  };
}

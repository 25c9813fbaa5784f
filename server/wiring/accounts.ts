import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import type { Config } from "../config/schema.ts";
import { accountService } from "../domain/accounts/account.ts";
import { contactsService } from "../domain/accounts/contacts.ts";
import { deviceAnnouncer } from "../domain/accounts/device-announcer.ts";
import { deviceService } from "../domain/accounts/devices.ts";
import { directoryService } from "../domain/accounts/directory.ts";
import { inviteService } from "../domain/accounts/invites.ts";
import { keyService } from "../domain/accounts/keys.ts";
import { otpService } from "../domain/accounts/otp.ts";
import { provisioningService } from "../domain/accounts/provisioning.ts";
import { registrationService } from "../domain/accounts/registration.ts";
import { tokenService } from "../domain/accounts/tokens.ts";
import { totpService } from "../domain/accounts/totp.ts";
import type { EventBus } from "../domain/ports/events.ts";
import type { OtpSender } from "../domain/ports/otp-sender.ts";
import type { RateLimiter } from "../domain/ports/rate-limit.ts";
import type { UsernameIndex } from "../domain/ports/username-index.ts";
import { auditedRateLimiter } from "../domain/rate-limit-audit.ts";
import type { AccountRoutesDeps } from "../http/routes/context.ts";
import type { Logger } from "../lib/log.ts";
import type { Database } from "../store/database.ts";
import { accountsStore } from "../store/repos/accounts.ts";
import { auditRepository } from "../store/repos/audit.ts";
import { authStore } from "../store/repos/auth-store.ts";
import { contactsStore } from "../store/repos/contacts-store.ts";
import { devicesStore } from "../store/repos/devices-store.ts";
import { invitesStore } from "../store/repos/invites-store.ts";
import { keysStore } from "../store/repos/keys-store.ts";
import { otpStore } from "../store/repos/otp-store.ts";
import { provisioningStore } from "../store/repos/provisioning-store.ts";
import { totpStore } from "../store/repos/totp-store.ts";
import { usernameIndexFor } from "./username-index.ts";

/** Builds the accounts services on a database: what the account routes and admin API use. */
export async function accountsModule(deps: {
  config: Config;
  database: Database;
  ctx: ProtocolContext;
  events: EventBus;
  limiter: RateLimiter;
  otpSender: OtpSender | undefined;
  log: Logger;
}): Promise<
  AccountRoutesDeps & { accountsStore: ReturnType<typeof accountsStore>; usernames: UsernameIndex }
> {
  const { config, database, ctx, events } = deps;
  const now = ctx.now;
  const accounts = accountsStore(database);
  const devices = devicesStore(database);
  const auth = authStore(database);
  const audit = auditRepository(database);
  const usernames = usernameIndexFor({ config, accounts, log: deps.log });
  const contacts = contactsStore(database);
  const announce = deviceAnnouncer({ events, contacts });
  const tokens = await tokenService({
    auth,
    devices,
    audit,
    now,
    accessTtlS: config.auth.access_token_ttl_s,
    refreshTtlDays: config.auth.refresh_token_ttl_days,
  });
  const invites = inviteService({ invites: invitesStore(database), accounts, audit, now });
  const otp = await otpService({
    mode: config.registration.mode,
    store: otpStore(database),
    sender: deps.otpSender,
    secret: (name, make) => auth.secret(name, make, now()),
    audit,
    now,
    log: deps.log,
  });
  const limiter = auditedRateLimiter(deps.limiter, audit, now);
  const totp = totpService({ store: totpStore(database), audit, limiter, now });
  return {
    config,
    tokens,
    registration: registrationService({
      ctx,
      announce,
      mode: config.registration.mode,
      accounts,
      usernames,
      invites,
      otp,
      totp,
      tokens,
      events,
      audit,
    }),
    devices: deviceService({
      ctx,
      announce,
      accounts,
      devices,
      tokens,
      events,
      audit,
      maxDevices: config.registration.max_devices,
    }),
    keys: keyService({ ctx, accounts, devices, keys: keysStore(database), events }),
    directory: directoryService({
      accounts,
      usernames,
      contacts,
      searchEnabled: config.directory.search,
    }),
    contacts: contactsService({ accounts, contacts, audit, now }),
    account: accountService({ accounts, usernames, events, audit, now }),
    totp,
    otp,
    invites,
    provisioning: provisioningService({ store: provisioningStore(database), now }),
    limiter,
    now,
    accountsStore: accounts,
    // For admin actions that list or unlist an account (a future disable/enable).
    usernames,
  };
}

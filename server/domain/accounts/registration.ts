import type { RegisterRequest } from "../../../protocol/api/accounts.ts";
import { fromBase64Url } from "../../../protocol/api/base64.ts";
import type { ProtocolContext } from "../../../protocol/crypto/context.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import { asAccountPublicKey } from "../../../protocol/identity/keys.ts";
import type {
  AccountRecord,
  AccountsStore,
  AccountWriteError,
  ProofUse,
} from "../ports/accounts.ts";
import type { EventBus } from "../ports/events.ts";
import type { UsernameIndex } from "../ports/username-index.ts";
import type { AuditRepository } from "../ports.ts";
import type { DeviceAnnouncer } from "./device-announcer.ts";
import { verifyNewDevice } from "./device-proof.ts";
import type { InviteService } from "./invites.ts";
import type { OtpService } from "./otp.ts";
import { sha256Hex } from "./secrets.ts";
import type { IssuedTokens, TokenService } from "./tokens.ts";
import type { TotpService } from "./totp.ts";
import { writeError } from "./write-error.ts";

export type RegistrationMode = "invite" | "open" | "otp";

/**
 * POST /accounts: a new account, or the identity reset of an existing one.
 *
 * The proof decides which: an invite an admin made for an account (its claim code), or a
 * phone/email code for an address an account already has, targets that account — its
 * identity is reset (new account key; every old device, key and token goes; contacts see a
 * safety-number change), after its TOTP if it enrolled one. Any other proof creates a new
 * account. The first admin comes from the one-time setup invite printed at first start.
 *
 * Every signature is checked before the second factor, and a recovery code is spent in the
 * reset's own write: a request refused on any ground leaves it unspent. The old devices'
 * sockets are told `revoked` (and close) once the reset is written.
 */
export function registrationService(deps: {
  ctx: ProtocolContext;
  mode: RegistrationMode;
  accounts: AccountsStore;
  usernames: UsernameIndex;
  invites: InviteService;
  otp: OtpService;
  totp: TotpService;
  tokens: TokenService;
  announce: DeviceAnnouncer;
  events: EventBus;
  audit: AuditRepository;
}) {
  const { ctx } = deps;

  async function resolveProof(req: RegisterRequest): Promise<{
    use: ProofUse;
    target: AccountRecord | undefined;
    isAdmin: boolean;
    phone: string | null;
    email: string | null;
  }> {
    const proof = req.proof;
    if (proof.kind === "open") {
      if (deps.mode !== "open") throw new ParleyError("registration_closed");
      return { use: { kind: "open" }, target: undefined, isAdmin: false, phone: null, email: null };
    }
    if (proof.kind === "invite") {
      const invite = await deps.invites.resolve(proof.code);
      // Claim and setup invites work in every mode; plain invites only in invite mode.
      if (deps.mode !== "invite" && !invite.forUserId && !invite.admin)
        throw new ParleyError("registration_closed");
      const target = invite.forUserId ? await deps.accounts.findById(invite.forUserId) : undefined;
      if (invite.forUserId && !target) throw new ParleyError("invite_invalid");
      return {
        use: { kind: "invite", inviteId: invite.id },
        target,
        isAdmin: invite.admin,
        phone: null,
        email: null,
      };
    }
    if (deps.mode !== "otp") throw new ParleyError("registration_closed");
    const destination = { phone: proof.phone ?? null, email: proof.email ?? null };
    await deps.otp.verify(proof.challengeId, proof.code, destination);
    const target = await deps.accounts.findByContact({ phone: proof.phone, email: proof.email });
    return {
      use: { kind: "otp", challengeId: proof.challengeId },
      target,
      isAdmin: false,
      ...destination,
    };
  }

  return {
    async register(req: RegisterRequest): Promise<IssuedTokens & { reset: boolean }> {
      const proof = await resolveProof(req);
      const userId = req.userId as UserId;
      const deviceId = req.device.deviceId as DeviceId;
      const target = proof.target;
      if (target && target.id !== userId) {
        throw new ParleyError(
          "invalid_request",
          "This proof belongs to another account: use its user id.",
          { field: "body.userId" },
        );
      }
      if (target?.deletedAt) throw new ParleyError("user_not_found");
      if (target?.disabledAt) throw new ParleyError("account_disabled");

      const accountKey = asAccountPublicKey(
        fromBase64Url(req.accountKey, "body.accountKey"),
        "body.accountKey",
      );
      const verified = await verifyNewDevice(ctx, {
        accountKey,
        userId,
        deviceId,
        certificate: req.device.certificate,
        deviceList: req.deviceList,
        keys: req.keys,
        latest: undefined,
        expectedDeviceIds: [],
        requireKeys: true,
      });
      const device = {
        id: deviceId,
        userId,
        identityKey: verified.certificate.identityKey,
        certificate: verified.certificateBytes,
        platform: req.device.platform,
        secretHash: await sha256Hex(fromBase64Url(req.device.secret, "body.device.secret")),
        nameCiphertext: req.device.nameCiphertext
          ? fromBase64Url(req.device.nameCiphertext, "body.device.nameCiphertext")
          : null,
      };
      const now = ctx.now();
      const username = target?.username ?? req.username;
      if (!username)
        throw new ParleyError("invalid_request", "Choose a username.", { field: "body.username" });
      // An account that had an identity and enrolled TOTP needs its second factor: checked
      // after every signature, so a request that cannot succeed spends no guess.
      const { recoveryCodeHash } = target?.accountKey
        ? await deps.totp.checkForReset(target.id, req.secondFactor)
        : {};
      let refused: AccountWriteError | "not_found" | undefined;
      let removedDeviceIds: DeviceId[] = [];
      if (target) {
        const result = await deps.accounts.resetIdentity({
          userId,
          accountKey,
          device,
          deviceList: verified.deviceList,
          keys: verified.keys,
          proof: proof.use,
          username: target.username ? undefined : username,
          isAdmin: proof.isAdmin,
          recoveryCodeHash,
          now,
        });
        if (typeof result === "string") refused = result;
        else removedDeviceIds = result.removedDeviceIds;
      } else {
        refused = await deps.accounts.createAccount({
          user: {
            id: userId,
            username,
            accountKey,
            isAdmin: proof.isAdmin,
            phone: proof.phone,
            email: proof.email,
          },
          device,
          deviceList: verified.deviceList,
          keys: verified.keys,
          proof: proof.use,
          now,
        });
      }
      if (refused) throw writeError(refused, proof.use.kind);
      // New, claimed or reset: the account is listed now (a reset keeps its username).
      await deps.usernames.put({ id: userId, username });
      const reset = target?.accountKey != null;
      await deps.audit.append({
        at: now,
        actor: userId,
        action: reset ? "account.identity_reset" : target ? "account.claim" : "account.register",
        target: deviceId,
        details: { proof: proof.use.kind, admin: proof.isAdmin },
      });
      // The old identity's devices are gone: their open sockets close now (4003).
      for (const removed of removedDeviceIds) deps.events.toDevice(removed, { type: "revoked" });
      if (reset) await deps.announce(userId, verified.deviceList.version, "reset");
      return { ...(await deps.tokens.issue(userId, deviceId)), reset };
    },
  };
}

export type RegistrationService = ReturnType<typeof registrationService>;

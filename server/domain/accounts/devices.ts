import type { Static } from "@sinclair/typebox";
import type { LinkDeviceRequest } from "../../../protocol/api/accounts.ts";
import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import type { ProtocolContext } from "../../../protocol/crypto/context.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import { asAccountPublicKey } from "../../../protocol/identity/keys.ts";
import type { AccountsStore, DevicesStore } from "../ports/accounts.ts";
import type { EventBus } from "../ports/events.ts";
import type { AuditRepository } from "../ports.ts";
import type { DeviceAnnouncer } from "./device-announcer.ts";
import { verifyNewDevice, verifyShrunkList } from "./device-proof.ts";
import { sha256Hex } from "./secrets.ts";
import type { IssuedTokens, Principal, TokenService } from "./tokens.ts";
import { writeError } from "./write-error.ts";

/**
 * Devices of an account: linking a new one (it proves the account key by bringing the next
 * device-list version, signed), listing, renaming, revoking. The server keeps its device
 * table equal to the newest signed list, and tells the user's devices when it changes.
 */
export function deviceService(deps: {
  ctx: ProtocolContext;
  accounts: AccountsStore;
  devices: DevicesStore;
  tokens: TokenService;
  events: EventBus;
  announce: DeviceAnnouncer;
  audit: AuditRepository;
  maxDevices: number;
}) {
  const { ctx } = deps;

  async function accountKeyOf(userId: UserId) {
    const account = await deps.accounts.findById(userId);
    if (!account?.accountKey || account.deletedAt) throw new ParleyError("user_not_found");
    if (account.disabledAt) throw new ParleyError("account_disabled");
    return asAccountPublicKey(account.accountKey);
  }

  return {
    async link(req: Static<typeof LinkDeviceRequest>): Promise<IssuedTokens> {
      const userId = req.userId as UserId;
      const deviceId = req.device.deviceId as DeviceId;
      const accountKey = await accountKeyOf(userId);
      const latest = await deps.devices.latestDeviceList(userId);
      if (!latest) throw new ParleyError("user_not_found");
      const current = await deps.devices.list(userId);
      const verified = await verifyNewDevice(ctx, {
        accountKey,
        userId,
        deviceId,
        certificate: req.device.certificate,
        deviceList: req.deviceList,
        keys: req.keys,
        latest,
        expectedDeviceIds: current.map((d) => d.id),
        requireKeys: true,
      });
      const refused = await deps.devices.link({
        device: {
          id: deviceId,
          userId,
          identityKey: verified.certificate.identityKey,
          certificate: verified.certificateBytes,
          platform: req.device.platform,
          secretHash: await sha256Hex(fromBase64Url(req.device.secret, "body.device.secret")),
          nameCiphertext: req.device.nameCiphertext
            ? fromBase64Url(req.device.nameCiphertext, "body.device.nameCiphertext")
            : null,
        },
        deviceList: verified.deviceList,
        previousHash: latest.hash,
        keys: verified.keys,
        maxDevices: deps.maxDevices,
        now: ctx.now(),
      });
      if (refused) throw writeError(refused);
      await deps.audit.append({
        at: ctx.now(),
        actor: userId,
        action: "device.link",
        target: deviceId,
        details: { version: verified.deviceList.version },
      });
      await deps.announce(userId, verified.deviceList.version, "added");
      return deps.tokens.issue(userId, deviceId);
    },

    async list(principal: Principal) {
      const devices = await deps.devices.list(principal.userId);
      return devices.map((d) => ({
        deviceId: d.id,
        platform: d.platform,
        ...(d.nameCiphertext ? { nameCiphertext: toBase64Url(d.nameCiphertext) } : {}),
        createdAt: d.createdAt,
        ...(d.lastActiveAt !== null ? { lastActiveAt: d.lastActiveAt } : {}),
        current: d.id === principal.deviceId,
      }));
    },

    async rename(principal: Principal, deviceId: DeviceId, nameCiphertext: string | undefined) {
      const name = nameCiphertext ? fromBase64Url(nameCiphertext, "body.nameCiphertext") : null;
      if (!(await deps.devices.rename(principal.userId, deviceId, name)))
        throw new ParleyError("device_not_found");
    },

    /** Revokes a device with the next device-list version, which must no longer hold it. */
    async revoke(principal: Principal, deviceId: DeviceId, deviceList: string) {
      const accountKey = await accountKeyOf(principal.userId);
      const latest = await deps.devices.latestDeviceList(principal.userId);
      const current = await deps.devices.list(principal.userId);
      if (!latest || !current.some((d) => d.id === deviceId))
        throw new ParleyError("device_not_found");
      const list = await verifyShrunkList(ctx, {
        accountKey,
        userId: principal.userId,
        deviceList,
        latest,
        remaining: current.filter((d) => d.id !== deviceId).map((d) => d.id),
      });
      const refused = await deps.devices.revoke({
        userId: principal.userId,
        deviceId,
        deviceList: list,
        previousHash: latest.hash,
        now: ctx.now(),
      });
      if (refused)
        throw refused === "not_found" ? new ParleyError("device_not_found") : writeError(refused);
      await deps.audit.append({
        at: ctx.now(),
        actor: principal.userId,
        action: "device.revoke",
        target: deviceId,
        details: { by: principal.deviceId, version: list.version },
      });
      deps.events.toDevice(deviceId, { type: "revoked" });
      await deps.announce(principal.userId, list.version, "removed");
    },

    /** The newest signed device list of a user, and every version after `since`. */
    async deviceLists(userId: UserId, since: number) {
      const lists = await deps.devices.deviceLists(userId, since);
      if (lists.length === 0 && !(await deps.devices.latestDeviceList(userId)))
        throw new ParleyError("user_not_found");
      return lists.map((l) => ({ version: l.version, deviceList: toBase64Url(l.encoded) }));
    },
  };
}

export type DeviceService = ReturnType<typeof deviceService>;

import type { KeyUpload, UserKeys } from "../../../protocol/api/accounts.ts";
import { toBase64Url } from "../../../protocol/api/base64.ts";
import type { ProtocolContext } from "../../../protocol/crypto/context.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import { asAccountPublicKey } from "../../../protocol/identity/keys.ts";
import type { AccountsStore, DevicesStore } from "../ports/accounts.ts";
import type { KeysStore } from "../ports/directory.ts";
import type { EventBus } from "../ports/events.ts";
import { verifyKeyUpload } from "./device-proof.ts";
import type { Principal } from "./tokens.ts";

/** Below this many one-time prekeys, the device is told to refill (DESIGN.md). */
export const KEYS_LOW_THRESHOLD = 10;

/**
 * The key directory: a device publishes prekeys (every signature checked against the
 * account key), and anyone signed in fetches a user's bundles, each one-time key handed out
 * exactly once. A device running low is told over its WebSocket.
 */
export function keyService(deps: {
  ctx: ProtocolContext;
  accounts: AccountsStore;
  devices: DevicesStore;
  keys: KeysStore;
  events: EventBus;
}) {
  return {
    async upload(principal: Principal, upload: KeyUpload): Promise<void> {
      const account = await deps.accounts.findById(principal.userId);
      if (!account?.accountKey) throw new ParleyError("user_not_found");
      const keys = await verifyKeyUpload(
        deps.ctx,
        asAccountPublicKey(account.accountKey),
        principal,
        upload,
        "body",
      );
      if (await deps.keys.upload(principal.deviceId, keys, deps.ctx.now())) {
        throw new ParleyError(
          "device_exists",
          "A prekey with one of these ids is already published.",
        );
      }
    },

    counts: (principal: Principal) => deps.keys.counts(principal.deviceId),

    async fetch(userId: UserId, deviceId?: DeviceId): Promise<UserKeys> {
      const account = await deps.accounts.findById(userId);
      const list = await deps.devices.latestDeviceList(userId);
      if (!account?.accountKey || account.deletedAt || !list)
        throw new ParleyError("user_not_found");
      const bundles = await deps.keys.claimBundles(userId, deviceId);
      if (deviceId && bundles.length === 0) throw new ParleyError("device_not_found");
      for (const b of bundles) {
        if (b.oneTimeLeft < KEYS_LOW_THRESHOLD) {
          const counts = await deps.keys.counts(b.deviceId);
          deps.events.toDevice(b.deviceId, {
            type: "keys_low",
            oneTimePrekeys: counts.oneTime,
            pqOneTimePrekeys: counts.pqOneTime,
          });
        }
      }
      return {
        userId,
        accountKey: toBase64Url(account.accountKey),
        deviceList: toBase64Url(list.encoded),
        devices: bundles.map((b) => ({
          deviceId: b.deviceId,
          certificate: toBase64Url(b.certificate),
          signedPrekey: toBase64Url(b.signedPrekey),
          ...(b.oneTimePrekey ? { oneTimePrekey: toBase64Url(b.oneTimePrekey) } : {}),
          pqPrekey: toBase64Url(b.pqPrekey),
        })),
      };
    },
  };
}

export type KeyService = ReturnType<typeof keyService>;

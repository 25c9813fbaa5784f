import type { KeyUpload, UserKeys } from "../../../protocol/api/accounts.ts";
import { toBase64Url } from "../../../protocol/api/base64.ts";
import {
  KEYS_LOW_ONE_TIME,
  KEYS_LOW_PQ_ONE_TIME,
  MAX_STORED_ONE_TIME_PREKEYS,
  MAX_STORED_PQ_ONE_TIME_PREKEYS,
} from "../../../protocol/api/prekeys.ts";
import type { ProtocolContext } from "../../../protocol/crypto/context.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { DeviceId, UserId } from "../../../protocol/identity/ids.ts";
import { asAccountPublicKey } from "../../../protocol/identity/keys.ts";
import type { AccountsStore, DevicesStore } from "../ports/accounts.ts";
import type { EventBus } from "../ports/events.ts";
import type { KeysStore } from "../ports/keys.ts";
import { verifyKeyUpload } from "./device-proof.ts";
import type { Principal } from "./tokens.ts";

/**
 * The key directory: a device publishes prekeys (every signature checked against the
 * account key, at most MAX_STORED_* one-time keys of each kind kept), and anyone signed in
 * fetches a user's bundles, each one-time key handed out exactly once. A device left with
 * fewer one-time X25519 or ML-KEM prekeys than KEYS_LOW_* is told over its WebSocket.
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
      const refused = await deps.keys.upload(principal.deviceId, keys, deps.ctx.now(), {
        oneTime: MAX_STORED_ONE_TIME_PREKEYS,
        pqOneTime: MAX_STORED_PQ_ONE_TIME_PREKEYS,
      });
      if (refused === "key_exists")
        throw new ParleyError(
          "device_exists",
          "A prekey with one of these ids is already published.",
        );
      if (refused === "limit_exceeded")
        throw new ParleyError(
          "limit_exceeded",
          `A device keeps at most ${MAX_STORED_ONE_TIME_PREKEYS} one-time prekeys and ${MAX_STORED_PQ_ONE_TIME_PREKEYS} one-time PQ prekeys; upload fewer.`,
        );
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
        // The counts come from the claim itself: no second look at the tables.
        if (b.oneTimeLeft < KEYS_LOW_ONE_TIME || b.pqOneTimeLeft < KEYS_LOW_PQ_ONE_TIME)
          deps.events.toDevice(b.deviceId, {
            type: "keys_low",
            oneTimePrekeys: b.oneTimeLeft,
            pqOneTimePrekeys: b.pqOneTimeLeft,
          });
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

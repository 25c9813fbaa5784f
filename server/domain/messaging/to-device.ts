import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { Principal } from "../accounts/tokens.ts";
import type { DevicesStore } from "../ports/accounts.ts";
import type { EventBus } from "../ports/events.ts";
import type { InboxEnvelope, InboxStore } from "../ports/inbox.ts";
import type { DeviceId } from "../ports.ts";

export const envelopeFrame = (e: InboxEnvelope) => ({
  pos: e.pos,
  senderUserId: e.senderUserId,
  senderDeviceId: e.senderDeviceId,
  envelope: toBase64Url(e.envelope),
  createdAt: e.createdAt,
});

/**
 * To-device envelopes: opaque pairwise ciphertext (key re-share requests and answers, call
 * keys) kept in each recipient device's inbox until it acknowledges them, at most `ttlMs`.
 * Only active devices receive them; whom a device may write to is the clients' business
 * (they refuse what they did not ask for), the server only stops a stranger's flood with
 * the rate limiter at the route.
 */
export function toDeviceService(deps: {
  inbox: InboxStore;
  devices: DevicesStore;
  events: EventBus;
  ttlMs: number;
  now: () => number;
}) {
  return {
    async send(
      principal: Principal,
      envelopes: { deviceId: string; envelope: string }[],
    ): Promise<{ sent: number }> {
      const now = deps.now();
      const decoded = envelopes.map((e, i) => ({
        deviceId: e.deviceId as DeviceId,
        envelope: fromBase64Url(e.envelope, `body.envelopes.${i}.envelope`),
      }));
      for (const [i, e] of decoded.entries()) {
        const device = await deps.devices.get(e.deviceId);
        if (!device || device.revokedAt !== null) {
          throw new ParleyError("device_not_found", "No such active device.", {
            field: `body.envelopes.${i}.deviceId`,
          });
        }
      }
      const stored = await deps.inbox.put(
        decoded.map((e) => ({
          ...e,
          senderUserId: principal.userId,
          senderDeviceId: principal.deviceId,
          createdAt: now,
          expiresAt: now + deps.ttlMs,
        })),
      );
      for (const e of stored)
        deps.events.toDevice(e.deviceId, { type: "to_device", ...envelopeFrame(e) });
      return { sent: stored.length };
    },

    /** The device has its envelopes up to `pos`: they are deleted. */
    ack: (principal: Principal, upToPos: number) => deps.inbox.ack(principal.deviceId, upToPos),
  };
}

export type ToDeviceService = ReturnType<typeof toDeviceService>;

import { toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { Principal } from "../accounts/tokens.ts";
import type { SyncCursor, SyncStore } from "../ports/sync.ts";
import { messageFrame } from "./messages.ts";
import { envelopeFrame } from "./to-device.ts";

/** Most items of each kind one sync page returns. */
export const SYNC_PAGE_LIMIT = 500;

const CURSOR = /^([0-9]{1,15})\.([0-9]{1,15})\.([0-9]{1,15})\.([0-9]{1,15})$/;
const START: SyncCursor = { messages: 0, receipts: 0, membership: 0, inbox: 0 };

/** The cursor as clients hold it: opaque text they send back unchanged. */
export const encodeCursor = (c: SyncCursor) =>
  `${c.messages}.${c.receipts}.${c.membership}.${c.inbox}`;

export function decodeCursor(text: string | undefined): SyncCursor {
  if (text === undefined || text === "") return START;
  const m = CURSOR.exec(text);
  if (!m) throw new ParleyError("invalid_request", "Not a sync cursor.", { field: "query.cursor" });
  return {
    messages: Number(m[1]),
    receipts: Number(m[2]),
    membership: Number(m[3]),
    inbox: Number(m[4]),
  };
}

/**
 * GET /sync: everything a device has not seen, from its cursor (none: from the start), in
 * pages; `more` says to ask again at once. A device offline for weeks catches up in order.
 */
export function syncService(deps: { sync: SyncStore }) {
  return {
    async page(principal: Principal, cursor: string | undefined, limit = SYNC_PAGE_LIMIT) {
      const page = await deps.sync.page({
        userId: principal.userId,
        deviceId: principal.deviceId,
        after: decodeCursor(cursor),
        limit: Math.min(Math.max(limit, 1), SYNC_PAGE_LIMIT),
      });
      return {
        messages: page.messages.map(messageFrame),
        receipts: page.receipts,
        membership: page.membership.map((m) => ({
          conversationId: m.conversationId,
          epoch: m.epoch,
          entry: toBase64Url(m.entry),
        })),
        toDevice: page.toDevice.map(envelopeFrame),
        cursor: encodeCursor(page.cursor),
        more: page.more,
      };
    },
  };
}

export type SyncService = ReturnType<typeof syncService>;

import type { ConversationId, DeviceId, UserId } from "../ports.ts";
import type { InboxEnvelope } from "./inbox.ts";
import type { DeliveredMessage } from "./messages.ts";

/** Where a device is in each stream (opaque to clients: they send back what they got). */
export interface SyncCursor {
  messages: number;
  receipts: number;
  membership: number;
  inbox: number;
}

export interface ReceiptChange {
  conversationId: ConversationId;
  userId: UserId;
  deliveredSeq: number;
  readSeq: number;
}

export interface MembershipChange {
  conversationId: ConversationId;
  epoch: number;
  entry: Uint8Array;
}

export interface SyncPage {
  messages: DeliveredMessage[];
  receipts: ReceiptChange[];
  membership: MembershipChange[];
  toDevice: InboxEnvelope[];
  cursor: SyncCursor;
  /** Some stream had more than `limit`: ask again with the new cursor. */
  more: boolean;
}

export interface SyncStore {
  /**
   * What a device has not seen after `after`, at most `limit` items per stream: messages of
   * the conversations its user may read (within each membership's range), receipt and
   * membership changes of those conversations, and the device's own inbox.
   */
  page(input: {
    userId: UserId;
    deviceId: DeviceId;
    after: SyncCursor;
    limit: number;
  }): Promise<SyncPage>;
}

import type { ConversationId, DeviceId, UserId } from "../ports.ts";
import type { MemberPeriod } from "./conversations.ts";

/** A message as stored (its ciphertext is null once deleted for everyone or expired). */
export interface StoredMessage {
  pos: number;
  id: string;
  conversationId: ConversationId;
  seq: number;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  ciphertext: Uint8Array | null;
  createdAt: number;
  expiresAt: number | null;
  deletedAt: number | null;
}

/** A stored message as one device receives it: with its key header for that device, if any. */
export interface DeliveredMessage extends StoredMessage {
  keyHeader?: Uint8Array;
}

export interface NewMessage {
  id: string;
  conversationId: ConversationId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  ciphertext: Uint8Array;
  expiresAt: number | null;
  keyHeaders: { deviceId: DeviceId; header: Uint8Array }[];
  /** A direct conversation's other user: the conversation is created on its first message. */
  directPeer?: UserId;
  now: number;
}

/** Why a message was not stored. */
export type SendRefusal =
  /** The id names a message with other content (a different conversation or sender). */
  | "id_conflict"
  | "not_member"
  /** Announcements-only group and the sender is not an admin. */
  | "not_allowed"
  /** The recipient of a direct message blocked the sender. */
  | "blocked"
  /** A key header for a device that is not an active device of a member. */
  | "bad_recipient"
  | "conversation_not_found";

export interface AppendResult {
  message: StoredMessage;
  /** The same id was stored before: nothing new was written. */
  duplicate: boolean;
  /** The conversation's current members (for fan-out). */
  members: UserId[];
}

export interface MessagesStore {
  /**
   * Stores a message and assigns its sequence in one transaction, after checking there that
   * the sender may post (member, role, block) and that every key header goes to an active
   * device of a member. The same client id again returns the stored message.
   */
  append(message: NewMessage): Promise<AppendResult | SendRefusal>;
  /** Messages of a conversation before `beforeSeq` within the member's periods, newest first. */
  history(input: {
    conversationId: ConversationId;
    deviceId: DeviceId;
    periods: readonly MemberPeriod[];
    beforeSeq: number;
    limit: number;
  }): Promise<DeliveredMessage[]>;
  get(id: string): Promise<StoredMessage | undefined>;
  /** Erases the ciphertext (a tombstone stays); only the sender may. */
  deleteForEveryone(
    id: string,
    senderUserId: UserId,
    now: number,
  ): Promise<StoredMessage | "not_found">;
  /** Erases the ciphertext of messages whose time is up; how many. */
  eraseExpired(now: number): Promise<number>;
}

export interface ReceiptsStore {
  /**
   * A device has the conversation up to `seq`: its position moves forward (never back), its
   * key headers up to `seq` are deleted, and the user's delivered position follows.
   * Returns the user's position when it moved.
   */
  delivered(input: {
    conversationId: ConversationId;
    userId: UserId;
    deviceId: DeviceId;
    seq: number;
    now: number;
  }): Promise<number | undefined>;
  /** The user read up to `seq` (forward only). Returns the new position when it moved. */
  read(input: {
    conversationId: ConversationId;
    userId: UserId;
    seq: number;
    now: number;
  }): Promise<number | undefined>;
}

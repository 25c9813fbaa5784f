import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import { decodeKeyHeader } from "../../../protocol/groups/key-header.ts";
import { decodeSenderKeyMessage } from "../../../protocol/groups/sender-key-wire.ts";
import type { Logger } from "../../lib/log.ts";
import type { Principal } from "../accounts/tokens.ts";
import type { ConversationsStore } from "../ports/conversations.ts";
import type { EventBus, MessageFrame } from "../ports/events.ts";
import type {
  DeliveredMessage,
  MessagesStore,
  ReceiptsStore,
  SendRefusal,
  StoredMessage,
} from "../ports/messages.ts";
import { noPushNotifier, type PushNotifier } from "../ports/push.ts";
import type { ConversationId, DeviceId, UserId } from "../ports.ts";

/** Disappearing messages live at most a year (the longest timer, protocol/messages). */
const MAX_EXPIRY_MS = 366 * 24 * 60 * 60 * 1000;

/** What a client sends (POST /messages, or the `send` WebSocket frame). */
export interface SendRequest {
  id: string;
  conversationId: string;
  /** The sender-key message (protocol/groups/sender-key-wire.ts), base64url. */
  ciphertext: string;
  keyHeaders?: { deviceId: string; header: string }[];
  expiresAt?: number;
  /** Direct conversations: the other user (the conversation is created on its first message). */
  peerUserId?: string;
}

export interface SendResult {
  id: string;
  conversationId: string;
  seq: number;
  createdAt: number;
  /** The same id was sent before: this is the stored message's answer again. */
  duplicate: boolean;
}

const REFUSALS: Record<SendRefusal, () => ParleyError> = {
  id_conflict: () => new ParleyError("message_id_conflict"),
  not_member: () => new ParleyError("not_a_member"),
  not_allowed: () => new ParleyError("posting_restricted"),
  blocked: () => new ParleyError("blocked"),
  bad_recipient: () =>
    new ParleyError(
      "invalid_request",
      "A key header is for a device that is not an active device of a member.",
      { field: "body.keyHeaders" },
    ),
  conversation_not_found: () => new ParleyError("conversation_not_found"),
};

/** The members other than the principal's user. */
const others = (members: { userId: UserId }[], principal: Principal) =>
  members.filter((m) => m.userId !== principal.userId).map((m) => m.userId);

/** A stored message as a device receives it, binary values in base64url. */
export function messageFrame(m: StoredMessage | DeliveredMessage): MessageFrame {
  return {
    id: m.id,
    conversationId: m.conversationId,
    seq: m.seq,
    senderUserId: m.senderUserId,
    senderDeviceId: m.senderDeviceId,
    ciphertext: m.ciphertext ? toBase64Url(m.ciphertext) : null,
    createdAt: m.createdAt,
    ...(m.expiresAt !== null ? { expiresAt: m.expiresAt } : {}),
    ...("keyHeader" in m && m.keyHeader ? { keyHeader: toBase64Url(m.keyHeader) } : {}),
  };
}

/**
 * Sending, reading and acknowledging conversation messages. The server checks what it can
 * see in clear — the sender-key message names this conversation, this device and this id;
 * each key header names the device it is stored for — then stores the message durably (the
 * sequence is assigned in the same transaction) and only then acknowledges and fans out.
 */
export function messageService(deps: {
  messages: MessagesStore;
  receipts: ReceiptsStore;
  conversations: ConversationsStore;
  events: EventBus;
  maxCiphertextBytes: number;
  maxKeyHeaderBytes: number;
  /** After erasing a ciphertext: leave no copy in the database's WAL. */
  eraseWalCopies: () => Promise<void>;
  /** Has `userId` blocked `otherUserId`? (Typing in direct conversations.) */
  isBlocked: (userId: UserId, otherUserId: UserId) => Promise<boolean>;
  /** Checks that `conversationId` is the direct conversation of the two users. */
  isDirectConversation: (conversationId: string, a: UserId, b: UserId) => boolean;
  now: () => number;
  /** Which of these users have a connected device (presence.ts); none without it. */
  online?: (userIds: readonly UserId[]) => Promise<Set<UserId>>;
  /** Wakes the members who have no connected device after a send (content-free). */
  push?: PushNotifier;
  log?: Logger;
}) {
  const push = deps.push ?? noPushNotifier;
  const online = deps.online ?? (async () => new Set<UserId>());

  /**
   * After a send: a content-free push to the members with no connected device. Runs behind
   * the sender's answer; a failure only costs the recipients latency (they sync anyway).
   */
  async function pushToOffline(recipients: UserId[], conversationId: string) {
    try {
      const connected = await online(recipients);
      const offline = recipients.filter((u) => !connected.has(u));
      if (offline.length > 0) await push.notify(offline, { conversationId });
    } catch (error) {
      deps.log?.warn("push notification failed", { error });
    }
  }

  function checkEnvelope(principal: Principal, req: SendRequest) {
    const ciphertext = fromBase64Url(req.ciphertext, "body.ciphertext");
    if (ciphertext.length > deps.maxCiphertextBytes) {
      throw new ParleyError("payload_too_large", "The message is larger than this server allows.", {
        field: "body.ciphertext",
      });
    }
    const clear = decodeSenderKeyMessage(ciphertext);
    if (
      clear.conversationId !== req.conversationId ||
      clear.senderUserId !== principal.userId ||
      clear.senderDeviceId !== principal.deviceId ||
      clear.clientMessageId !== req.id
    ) {
      throw new ParleyError(
        "invalid_request",
        "The message names another conversation, sender, device or id than its envelope.",
        { field: "body.ciphertext" },
      );
    }
    let total = 0;
    const keyHeaders = (req.keyHeaders ?? []).map((h, i) => {
      const header = fromBase64Url(h.header, `body.keyHeaders.${i}.header`);
      total += header.length;
      if (decodeKeyHeader(header).recipientDeviceId !== h.deviceId) {
        throw new ParleyError("invalid_request", "A key header names another device.", {
          field: `body.keyHeaders.${i}`,
        });
      }
      return { deviceId: h.deviceId as DeviceId, header };
    });
    if (total > deps.maxKeyHeaderBytes) {
      throw new ParleyError("payload_too_large", "The key headers are larger than allowed.", {
        field: "body.keyHeaders",
      });
    }
    return { ciphertext, keyHeaders };
  }

  /**
   * What a user may see of a conversation: their periods in it (a former member's are
   * closed), whether they are in it now, and the members events go to (current members whose
   * account exists). Neither member nor former member: not_a_member.
   */
  async function accessOf(principal: Principal, conversationId: ConversationId) {
    const periods = await deps.conversations.periods(conversationId, principal.userId);
    if (periods.length === 0) {
      const exists = await deps.conversations.get(conversationId);
      throw new ParleyError(exists ? "not_a_member" : "conversation_not_found");
    }
    const members = await deps.conversations.members(conversationId);
    return {
      periods,
      current: periods.some((p) => p.untilSeq === null),
      /** The last sequence a former member may see (Infinity for a member). */
      lastReadable: periods.some((p) => p.untilSeq === null)
        ? Number.POSITIVE_INFINITY
        : Math.max(...periods.map((p) => p.untilSeq ?? 0)),
      active: members.filter((m) => !m.accountDeleted),
    };
  }

  return {
    async send(principal: Principal, req: SendRequest): Promise<SendResult> {
      const { ciphertext, keyHeaders } = checkEnvelope(principal, req);
      const now = deps.now();
      if (
        req.expiresAt !== undefined &&
        (req.expiresAt <= now || req.expiresAt > now + MAX_EXPIRY_MS)
      ) {
        throw new ParleyError("invalid_request", "expiresAt must be within the next year.", {
          field: "body.expiresAt",
        });
      }
      const peer = req.peerUserId as UserId | undefined;
      if (
        peer !== undefined &&
        !deps.isDirectConversation(req.conversationId, principal.userId, peer)
      ) {
        throw new ParleyError(
          "invalid_request",
          "This is not the direct conversation of these two users.",
          { field: "body.conversationId" },
        );
      }
      const result = await deps.messages.append({
        id: req.id,
        conversationId: req.conversationId as ConversationId,
        senderUserId: principal.userId,
        senderDeviceId: principal.deviceId,
        ciphertext,
        expiresAt: req.expiresAt ?? null,
        keyHeaders,
        ...(peer ? { directPeer: peer } : {}),
        now,
      });
      if (typeof result === "string") throw REFUSALS[result]();
      const { message } = result;
      if (!result.duplicate) {
        const event = {
          type: "new_message" as const,
          message: messageFrame(message),
          ...(keyHeaders.length > 0
            ? {
                keyHeaders: Object.fromEntries(
                  keyHeaders.map((h) => [h.deviceId, toBase64Url(h.header)]),
                ),
              }
            : {}),
          excludeDevice: principal.deviceId,
        };
        deps.events.toUsers(result.members, event);
        const recipients = result.members.filter((u) => u !== principal.userId);
        if (recipients.length > 0) void pushToOffline(recipients, message.conversationId);
      }
      return {
        id: message.id,
        conversationId: message.conversationId,
        seq: message.seq,
        createdAt: message.createdAt,
        duplicate: result.duplicate,
      };
    },

    /** A page of history, newest first, from before `beforeSeq` (the newest without it). */
    async history(
      principal: Principal,
      conversationId: ConversationId,
      options: { beforeSeq?: number; limit: number },
    ) {
      const { periods } = await accessOf(principal, conversationId);
      const page = await deps.messages.history({
        conversationId,
        deviceId: principal.deviceId,
        periods,
        beforeSeq: options.beforeSeq ?? Number.MAX_SAFE_INTEGER,
        limit: options.limit,
      });
      return page.map(messageFrame);
    },

    /** This device has the conversation up to `seq`; the other members see it delivered. */
    async delivered(principal: Principal, conversationId: ConversationId, seq: number) {
      const { active, lastReadable } = await accessOf(principal, conversationId);
      const moved = await deps.receipts.delivered({
        conversationId,
        userId: principal.userId,
        deviceId: principal.deviceId,
        seq: Math.min(seq, lastReadable),
        now: deps.now(),
      });
      if (moved === undefined) return;
      const event = {
        type: "message_delivered" as const,
        conversationId,
        userId: principal.userId,
        seq: moved,
      };
      deps.events.toUsers(others(active, principal), event);
    },

    /** The user read up to `seq` (forward only): members and the user's other devices see it. */
    async read(principal: Principal, conversationId: ConversationId, seq: number) {
      const { active, lastReadable } = await accessOf(principal, conversationId);
      const moved = await deps.receipts.read({
        conversationId,
        userId: principal.userId,
        seq: Math.min(seq, lastReadable),
        now: deps.now(),
      });
      if (moved === undefined) return;
      const event = {
        type: "message_read_update" as const,
        conversationId,
        userId: principal.userId,
        seq: moved,
      };
      deps.events.toUsers(
        active.map((m) => m.userId),
        event,
      );
    },

    /** PUT /messages/{id}/read (the seed's form): read up to that message. */
    async readUpTo(principal: Principal, messageId: string) {
      const message = await deps.messages.get(messageId);
      if (!message) throw new ParleyError("message_not_found");
      const { periods } = await accessOf(principal, message.conversationId).catch(() => {
        throw new ParleyError("message_not_found");
      });
      const readable = periods.some(
        (p) => message.seq >= p.fromSeq && (p.untilSeq === null || message.seq <= p.untilSeq),
      );
      if (!readable) throw new ParleyError("message_not_found");
      await this.read(principal, message.conversationId, message.seq);
    },

    /** Erases a message's ciphertext for everyone (its sender only). */
    async deleteForEveryone(principal: Principal, id: string): Promise<void> {
      const erased = await deps.messages.deleteForEveryone(id, principal.userId, deps.now());
      if (erased === "not_found") throw new ParleyError("message_not_found");
      await deps.eraseWalCopies();
    },

    /** Ephemeral: tells the other members' devices (never stored). */
    async typing(principal: Principal, conversationId: ConversationId, typing: boolean) {
      const { active, current } = await accessOf(principal, conversationId);
      if (!current) throw new ParleyError("not_a_member");
      // In a direct conversation, nothing reaches someone who blocked the sender.
      const conversation = await deps.conversations.get(conversationId);
      const peer = active.find((m) => m.userId !== principal.userId);
      if (
        conversation?.kind === "direct" &&
        peer &&
        (await deps.isBlocked(peer.userId, principal.userId))
      )
        return;
      const event = {
        type: "typing" as const,
        conversationId,
        userId: principal.userId,
        deviceId: principal.deviceId,
        typing,
      };
      deps.events.toUsers(others(active, principal), event);
    },
  };
}

export type MessageService = ReturnType<typeof messageService>;

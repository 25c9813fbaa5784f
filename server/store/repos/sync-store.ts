import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import type { DeliveredMessage } from "../../domain/ports/messages.ts";
import type { SyncStore } from "../../domain/ports/sync.ts";
import type { ConversationId, UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import {
  conversationMembers,
  inbox,
  keyHeaders,
  memberPeriods,
  membershipLog,
  messages,
  userReceipts,
} from "../schema.ts";
import { toEnvelope } from "./inbox-store.ts";
import { toStoredMessage } from "./messages-store.ts";

/**
 * Each stream is read in commit order after its own position. Messages come only from the
 * conversations the user is or was in, within their periods (a new member does not get what came
 * before; a former one nothing after), each with this device's key header if it has one.
 */
export function syncStore(database: Database): SyncStore {
  const { db } = database;
  return {
    async page({ userId, deviceId, after, limit }) {
      const current = (conversationId: SQLiteColumn) =>
        and(
          eq(conversationMembers.conversationId, conversationId),
          eq(conversationMembers.userId, userId),
        );
      const messageRows = await db
        .select({ message: messages, header: keyHeaders.header })
        .from(messages)
        .leftJoin(
          keyHeaders,
          and(eq(keyHeaders.messagePos, messages.pos), eq(keyHeaders.deviceId, deviceId)),
        )
        .where(
          and(
            gt(messages.pos, after.messages),
            sql`EXISTS (SELECT 1 FROM ${memberPeriods} p
              WHERE p.conversation_id = ${messages.conversationId} AND p.user_id = ${userId}
                AND ${messages.seq} >= p.from_seq
                AND (p.until_seq IS NULL OR ${messages.seq} <= p.until_seq))`,
          ),
        )
        .orderBy(asc(messages.pos))
        .limit(limit);
      // Positions of the conversations the user is in now.
      const receiptRows = await db
        .select({ receipt: userReceipts })
        .from(userReceipts)
        .innerJoin(conversationMembers, current(userReceipts.conversationId))
        .where(gt(userReceipts.pos, after.receipts))
        .orderBy(asc(userReceipts.pos))
        .limit(limit);
      // The log up to the entry that removed a former member; all of it for a member.
      const logRows = await db
        .select({ entry: membershipLog })
        .from(membershipLog)
        .where(
          and(
            gt(membershipLog.pos, after.membership),
            sql`EXISTS (SELECT 1 FROM ${memberPeriods} p
              WHERE p.conversation_id = ${membershipLog.conversationId} AND p.user_id = ${userId}
                AND (p.until_epoch IS NULL OR ${membershipLog.epoch} <= p.until_epoch))`,
          ),
        )
        .orderBy(asc(membershipLog.pos))
        .limit(limit);
      const inboxRows = await db
        .select()
        .from(inbox)
        .where(and(eq(inbox.deviceId, deviceId), gt(inbox.pos, after.inbox)))
        .orderBy(asc(inbox.pos))
        .limit(limit);
      return {
        messages: messageRows.map(
          (r): DeliveredMessage => ({
            ...toStoredMessage(r.message),
            ...(r.header ? { keyHeader: new Uint8Array(r.header) } : {}),
          }),
        ),
        receipts: receiptRows.map(({ receipt: r }) => ({
          conversationId: r.conversationId as ConversationId,
          userId: r.userId as UserId,
          deliveredSeq: r.deliveredSeq,
          readSeq: r.readSeq,
        })),
        membership: logRows.map(({ entry: r }) => ({
          conversationId: r.conversationId as ConversationId,
          epoch: r.epoch,
          entry: new Uint8Array(r.entry),
        })),
        toDevice: inboxRows.map(toEnvelope),
        cursor: {
          messages: messageRows.at(-1)?.message.pos ?? after.messages,
          receipts: receiptRows.at(-1)?.receipt.pos ?? after.receipts,
          membership: logRows.at(-1)?.entry.pos ?? after.membership,
          inbox: inboxRows.at(-1)?.pos ?? after.inbox,
        },
        more: [messageRows, receiptRows, logRows, inboxRows].some((rows) => rows.length === limit),
      };
    },
  };
}

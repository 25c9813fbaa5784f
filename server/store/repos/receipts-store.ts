import { and, eq, inArray, sql } from "drizzle-orm";
import type { ReceiptsStore } from "../../domain/ports/messages.ts";
import type { Database, SqlDb } from "../database.ts";
import {
  conversations,
  deviceReceipts,
  keyHeaders,
  messages,
  streamCounters,
  userReceipts,
} from "../schema.ts";

/** The next position of a stream whose rows change in place (commit order: writes are serial). */
export async function nextStreamPos(tx: SqlDb, name: string): Promise<number> {
  const [row] = await tx
    .insert(streamCounters)
    .values({ name, value: 1 })
    .onConflictDoUpdate({
      target: streamCounters.name,
      set: { value: sql`${streamCounters.value} + 1` },
    })
    .returning({ value: streamCounters.value });
  return row!.value;
}

/** A position no further than the conversation's newest message. */
async function clamp(tx: SqlDb, conversationId: string, seq: number): Promise<number> {
  const [row] = await tx
    .select({ lastSeq: conversations.lastSeq })
    .from(conversations)
    .where(eq(conversations.id, conversationId));
  return Math.min(seq, row?.lastSeq ?? 0);
}

/**
 * Moves a user's positions forward (never back); returns the new row's values when either
 * moved. Read implies delivered.
 */
async function moveUser(
  tx: SqlDb,
  input: { conversationId: string; userId: string; delivered: number; read: number; now: number },
) {
  const [row] = await tx
    .select()
    .from(userReceipts)
    .where(
      and(
        eq(userReceipts.conversationId, input.conversationId),
        eq(userReceipts.userId, input.userId),
      ),
    );
  const delivered = Math.max(row?.deliveredSeq ?? 0, input.delivered, input.read);
  const read = Math.max(row?.readSeq ?? 0, input.read);
  if (row && delivered === row.deliveredSeq && read === row.readSeq) return undefined;
  const values = { deliveredSeq: delivered, readSeq: read, updatedAt: input.now };
  const pos = await nextStreamPos(tx, "receipts");
  await tx
    .insert(userReceipts)
    .values({ conversationId: input.conversationId, userId: input.userId, ...values, pos })
    .onConflictDoUpdate({
      target: [userReceipts.conversationId, userReceipts.userId],
      set: { ...values, pos },
    });
  return { delivered, read, deliveredMoved: delivered !== (row?.deliveredSeq ?? 0) };
}

export function receiptsStore(database: Database): ReceiptsStore {
  return {
    delivered({ conversationId, userId, deviceId, seq, now }) {
      return database.write(async (tx) => {
        const upTo = await clamp(tx, conversationId, seq);
        if (upTo <= 0) return undefined;
        await tx
          .insert(deviceReceipts)
          .values({ conversationId, deviceId, deliveredSeq: upTo, updatedAt: now })
          .onConflictDoUpdate({
            target: [deviceReceipts.conversationId, deviceReceipts.deviceId],
            set: {
              deliveredSeq: sql`max(${deviceReceipts.deliveredSeq}, ${upTo})`,
              updatedAt: now,
            },
          });
        // The device has these messages: their key headers for it are no longer needed.
        await tx.delete(keyHeaders).where(
          and(
            eq(keyHeaders.deviceId, deviceId),
            inArray(
              keyHeaders.messagePos,
              tx
                .select({ pos: messages.pos })
                .from(messages)
                .where(
                  and(eq(messages.conversationId, conversationId), sql`${messages.seq} <= ${upTo}`),
                ),
            ),
          ),
        );
        const moved = await moveUser(tx, { conversationId, userId, delivered: upTo, read: 0, now });
        return moved?.deliveredMoved ? moved.delivered : undefined;
      });
    },

    read({ conversationId, userId, seq, now }) {
      return database.write(async (tx) => {
        const upTo = await clamp(tx, conversationId, seq);
        if (upTo <= 0) return undefined;
        const moved = await moveUser(tx, { conversationId, userId, delivered: 0, read: upTo, now });
        return moved && moved.read === upTo ? moved.read : undefined;
      });
    },
  };
}

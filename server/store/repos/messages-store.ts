import { and, desc, eq, gte, inArray, isNotNull, isNull, lt, lte, or, sql } from "drizzle-orm";
import type {
  DeliveredMessage,
  MessagesStore,
  SendRefusal,
  StoredMessage,
} from "../../domain/ports/messages.ts";
import type { ConversationId, DeviceId, UserId } from "../../domain/ports.ts";
import type { Database, SqlDb } from "../database.ts";
import { prepared } from "../prepared.ts";
import {
  contacts,
  conversationMembers,
  conversations,
  devices,
  keyHeaders,
  memberPeriods,
  messages,
  users,
} from "../schema.ts";
import { activeMembers } from "./conversations-store.ts";

type MessageRow = typeof messages.$inferSelect;

export const toStoredMessage = (r: MessageRow): StoredMessage => ({
  pos: r.pos,
  id: r.id,
  conversationId: r.conversationId as ConversationId,
  seq: r.seq,
  senderUserId: r.senderUserId as UserId,
  senderDeviceId: r.senderDeviceId as DeviceId,
  ciphertext: r.ciphertext ? new Uint8Array(r.ciphertext) : null,
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
  deletedAt: r.deletedAt,
});

/** Creates a direct conversation with both users as members, reading from the start. */
async function createDirect(tx: SqlDb, id: string, users: string[], now: number) {
  await tx
    .insert(conversations)
    .values({ id, kind: "direct", createdAt: now, updatedAt: now })
    .onConflictDoNothing();
  for (const userId of users) {
    await tx
      .insert(conversationMembers)
      .values({ conversationId: id, userId, role: "member", joinedAt: now })
      .onConflictDoNothing();
    await tx
      .insert(memberPeriods)
      .values({ conversationId: id, userId, fromSeq: 1, fromEpoch: 0 })
      .onConflictDoNothing();
  }
}

/** May the sender post to a direct conversation: the peer exists and has not blocked them? */
async function directRefusal(
  tx: SqlDb,
  sender: string,
  peer: string | undefined,
): Promise<SendRefusal | undefined> {
  if (!peer) return "not_member";
  const [row] = await prepared(tx, "messages.peer", (db) =>
    db
      .select({
        deletedAt: users.deletedAt,
        blocked: sql<number>`EXISTS (SELECT 1 FROM ${contacts} WHERE ${contacts.userId} = ${sql.placeholder("peer")}
          AND ${contacts.contactUserId} = ${sql.placeholder("sender")} AND ${contacts.blocked} = 1)`,
      })
      .from(users)
      .where(eq(users.id, sql.placeholder("peer")))
      .prepare(),
  ).all({ peer, sender });
  if (!row || row.deletedAt !== null) return "not_member";
  return Number(row.blocked) ? "blocked" : undefined;
}

/** Every key header goes to an active device of a current member. */
async function recipientsValid(
  tx: SqlDb,
  deviceIds: string[],
  memberIds: Set<string>,
): Promise<boolean> {
  const unique = [...new Set(deviceIds)];
  if (unique.length !== deviceIds.length) return false;
  const rows = await tx
    .select({ userId: devices.userId })
    .from(devices)
    .where(and(inArray(devices.id, unique), isNull(devices.revokedAt)));
  return rows.length === unique.length && rows.every((r) => memberIds.has(r.userId));
}

export function messagesStore(database: Database): MessagesStore {
  const { db } = database;
  return {
    append(m) {
      return database.write(async (tx) => {
        const [existing] = await prepared(tx, "messages.byId", (db) =>
          db
            .select()
            .from(messages)
            .where(eq(messages.id, sql.placeholder("id")))
            .limit(1)
            .prepare(),
        ).all({ id: m.id });
        if (existing) {
          if (
            existing.conversationId !== m.conversationId ||
            existing.senderUserId !== m.senderUserId
          )
            return "id_conflict" as const;
          const members = await activeMembers(tx, m.conversationId);
          return {
            message: toStoredMessage(existing),
            duplicate: true,
            members: members.map((r) => r.userId as UserId),
          };
        }
        const conversationById = prepared(tx, "messages.conversation", (db) =>
          db
            .select()
            .from(conversations)
            .where(eq(conversations.id, sql.placeholder("id")))
            .limit(1)
            .prepare(),
        );
        let [conversation] = await conversationById.all({ id: m.conversationId });
        if (!conversation && m.directPeer) {
          const refused = await directRefusal(tx, m.senderUserId, m.directPeer);
          if (refused) return refused;
          await createDirect(tx, m.conversationId, [m.senderUserId, m.directPeer], m.now);
          [conversation] = await conversationById.all({ id: m.conversationId });
        }
        if (!conversation) return "conversation_not_found" as const;
        const members = await activeMembers(tx, m.conversationId);
        const me = members.find((r) => r.userId === m.senderUserId);
        if (!me) return "not_member" as const;
        if (conversation.kind === "group" && conversation.announcementsOnly && me.role === "member")
          return "not_allowed" as const;
        if (conversation.kind === "direct") {
          const peer = members.find((r) => r.userId !== m.senderUserId)?.userId;
          const refused = await directRefusal(tx, m.senderUserId, peer);
          if (refused) return refused;
        }
        const memberIds = new Set(members.map((r) => r.userId));
        if (
          m.keyHeaders.length > 0 &&
          !(await recipientsValid(
            tx,
            m.keyHeaders.map((h) => h.deviceId),
            memberIds,
          ))
        )
          return "bad_recipient" as const;

        // The sequence is taken in the same transaction as the insert: dense and unique.
        const [next] = await prepared(tx, "messages.nextSeq", (db) =>
          db
            .update(conversations)
            .set({
              lastSeq: sql`${conversations.lastSeq} + 1`,
              updatedAt: sql`${sql.placeholder("now")}`,
            })
            .where(eq(conversations.id, sql.placeholder("id")))
            .returning({ seq: conversations.lastSeq })
            .prepare(),
        ).all({ id: m.conversationId, now: m.now });
        const [row] = await prepared(tx, "messages.insert", (db) =>
          db
            .insert(messages)
            .values({
              id: sql.placeholder("id"),
              conversationId: sql.placeholder("conversationId"),
              seq: sql.placeholder("seq"),
              senderUserId: sql.placeholder("senderUserId"),
              senderDeviceId: sql.placeholder("senderDeviceId"),
              ciphertext: sql.placeholder("ciphertext"),
              size: sql.placeholder("size"),
              createdAt: sql.placeholder("createdAt"),
              expiresAt: sql.placeholder("expiresAt"),
            })
            .returning()
            .prepare(),
        ).all({
          id: m.id,
          conversationId: m.conversationId,
          seq: next!.seq,
          senderUserId: m.senderUserId,
          senderDeviceId: m.senderDeviceId,
          ciphertext: Buffer.from(m.ciphertext),
          size: m.ciphertext.length,
          createdAt: m.now,
          expiresAt: m.expiresAt,
        });
        if (m.keyHeaders.length > 0) {
          await tx.insert(keyHeaders).values(
            m.keyHeaders.map((h) => ({
              messagePos: row!.pos,
              deviceId: h.deviceId,
              header: Buffer.from(h.header),
            })),
          );
        }
        return {
          message: toStoredMessage(row!),
          duplicate: false,
          members: [...memberIds] as UserId[],
        };
      });
    },

    async history(input) {
      if (input.periods.length === 0) return [];
      const readable = or(
        ...input.periods.map((p) =>
          and(
            gte(messages.seq, p.fromSeq),
            p.untilSeq === null ? undefined : lte(messages.seq, p.untilSeq),
          ),
        ),
      );
      const rows = await db
        .select({ message: messages, header: keyHeaders.header })
        .from(messages)
        .leftJoin(
          keyHeaders,
          and(eq(keyHeaders.messagePos, messages.pos), eq(keyHeaders.deviceId, input.deviceId)),
        )
        .where(
          and(
            eq(messages.conversationId, input.conversationId),
            lt(messages.seq, input.beforeSeq),
            readable,
          ),
        )
        .orderBy(desc(messages.seq))
        .limit(input.limit);
      return rows.map(
        (r): DeliveredMessage => ({
          ...toStoredMessage(r.message),
          ...(r.header ? { keyHeader: new Uint8Array(r.header) } : {}),
        }),
      );
    },

    async get(id) {
      const [row] = await db.select().from(messages).where(eq(messages.id, id)).limit(1);
      return row ? toStoredMessage(row) : undefined;
    },

    deleteForEveryone(id, senderUserId, now) {
      return database.write(async (tx) => {
        const [row] = await tx
          .update(messages)
          .set({ ciphertext: null, deletedAt: now })
          .where(and(eq(messages.id, id), eq(messages.senderUserId, senderUserId)))
          .returning();
        if (!row) return "not_found" as const;
        await tx.delete(keyHeaders).where(eq(keyHeaders.messagePos, row.pos));
        return toStoredMessage(row);
      });
    },

    eraseExpired(now) {
      return database.write(async (tx) => {
        const erased = await tx
          .update(messages)
          .set({ ciphertext: null })
          .where(
            and(
              isNotNull(messages.expiresAt),
              lte(messages.expiresAt, now),
              isNotNull(messages.ciphertext),
            ),
          )
          .returning({ pos: messages.pos });
        if (erased.length > 0) {
          await tx.delete(keyHeaders).where(
            inArray(
              keyHeaders.messagePos,
              erased.map((r) => r.pos),
            ),
          );
        }
        return erased.length;
      });
    },
  };
}

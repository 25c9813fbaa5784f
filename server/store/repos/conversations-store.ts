import { and, asc, eq, gt, isNull, sql } from "drizzle-orm";
import type { MemberRole } from "../../../protocol/identity/membership-rules.ts";
import type {
  ConversationRecord,
  ConversationsStore,
  MemberRecord,
} from "../../domain/ports/conversations.ts";
import type { ConversationId, UserId } from "../../domain/ports.ts";
import type { Database, SqlDb } from "../database.ts";
import { prepared } from "../prepared.ts";
import {
  conversationMembers,
  conversations,
  memberPeriods,
  membershipLog,
  userReceipts,
  users,
} from "../schema.ts";
import { isUniqueViolation } from "../sql-errors.ts";

type ConversationRow = typeof conversations.$inferSelect;
type MemberRow = typeof conversationMembers.$inferSelect;

export const toConversation = (r: ConversationRow): ConversationRecord => ({
  id: r.id as ConversationId,
  kind: r.kind,
  lastSeq: r.lastSeq,
  membershipEpoch: r.membershipEpoch,
  logHeadHash: r.logHeadHash,
  announcementsOnly: r.announcementsOnly,
  infoCiphertext: r.infoCiphertext ? new Uint8Array(r.infoCiphertext) : null,
  createdAt: r.createdAt,
  updatedAt: r.updatedAt,
});

const toMember = (r: MemberRow, deletedAt: number | null): MemberRecord => ({
  userId: r.userId as UserId,
  role: r.role,
  joinedAt: r.joinedAt,
  accountDeleted: deletedAt !== null,
});

/** Thrown inside a transaction to roll it back with a refusal. */
class Refused extends Error {
  constructor(readonly code: "stale" | "exists") {
    super(code);
  }
}

/**
 * Writes the difference between the current members and `after` (the group once the entry
 * at `epoch` applies): who joins starts a period at the next sequence, who leaves ends theirs
 * at the last one.
 */
async function applyMembers(
  tx: SqlDb,
  conversationId: string,
  at: { lastSeq: number; epoch: number; now: number },
  after: ReadonlyMap<UserId, MemberRole>,
): Promise<void> {
  const rows = await tx
    .select()
    .from(conversationMembers)
    .where(eq(conversationMembers.conversationId, conversationId));
  const current = new Map(rows.map((r) => [r.userId, r]));
  const member = (table: typeof conversationMembers | typeof memberPeriods, userId: string) =>
    and(eq(table.conversationId, conversationId), eq(table.userId, userId));
  for (const [userId, role] of after) {
    const row = current.get(userId);
    if (row) {
      if (row.role !== role)
        await tx
          .update(conversationMembers)
          .set({ role })
          .where(member(conversationMembers, userId));
      continue;
    }
    await tx.insert(conversationMembers).values({ conversationId, userId, role, joinedAt: at.now });
    await tx.insert(memberPeriods).values({
      conversationId,
      userId,
      fromSeq: at.lastSeq + 1,
      fromEpoch: at.epoch,
    });
  }
  for (const userId of current.keys()) {
    if (after.has(userId as UserId)) continue;
    await tx.delete(conversationMembers).where(member(conversationMembers, userId));
    await tx
      .update(memberPeriods)
      .set({ untilSeq: at.lastSeq, untilEpoch: at.epoch })
      .where(and(member(memberPeriods, userId), isNull(memberPeriods.untilSeq)));
  }
}

export function conversationsStore(database: Database): ConversationsStore {
  const { db } = database;
  return {
    async get(id) {
      const [row] = await db.select().from(conversations).where(eq(conversations.id, id)).limit(1);
      return row ? toConversation(row) : undefined;
    },

    async members(id) {
      const rows = await db
        .select({ member: conversationMembers, deletedAt: users.deletedAt })
        .from(conversationMembers)
        .innerJoin(users, eq(users.id, conversationMembers.userId))
        .where(eq(conversationMembers.conversationId, id))
        .orderBy(asc(conversationMembers.joinedAt));
      return rows.map((r) => toMember(r.member, r.deletedAt));
    },

    async periods(id, userId) {
      const rows = await db
        .select()
        .from(memberPeriods)
        .where(and(eq(memberPeriods.conversationId, id), eq(memberPeriods.userId, userId)))
        .orderBy(asc(memberPeriods.fromSeq));
      return rows.map((r) => ({
        fromSeq: r.fromSeq,
        untilSeq: r.untilSeq,
        fromEpoch: r.fromEpoch,
        untilEpoch: r.untilEpoch,
      }));
    },

    async listFor(userId) {
      // Every conversation the user has a period in; a former member sees it as they left it.
      const rows = (await db.all(sql`
        SELECT c.*, m.role AS member_role,
          (SELECT max(p.until_seq) FROM ${memberPeriods} p
             WHERE p.conversation_id = c.id AND p.user_id = ${userId}) AS left_at_seq,
          coalesce(r.delivered_seq, 0) AS delivered, coalesce(r.read_seq, 0) AS read
        FROM ${conversations} c
        LEFT JOIN ${conversationMembers} m ON m.conversation_id = c.id AND m.user_id = ${userId}
        LEFT JOIN ${userReceipts} r ON r.conversation_id = c.id AND r.user_id = ${userId}
        WHERE EXISTS (SELECT 1 FROM ${memberPeriods} p
                      WHERE p.conversation_id = c.id AND p.user_id = ${userId})
        ORDER BY c.updated_at DESC`)) as Record<string, unknown>[];
      return rows.map((r) => {
        const current = r.member_role !== null;
        return {
          id: r.id as ConversationId,
          kind: r.kind as "direct" | "group",
          lastSeq: current ? Number(r.last_seq) : Number(r.left_at_seq),
          membershipEpoch: r.membership_epoch === null ? null : Number(r.membership_epoch),
          logHeadHash: (r.log_head_hash as string | null) ?? null,
          announcementsOnly: Number(r.announcements_only) === 1,
          infoCiphertext:
            current && r.info_ciphertext ? new Uint8Array(r.info_ciphertext as Uint8Array) : null,
          createdAt: Number(r.created_at),
          updatedAt: Number(r.updated_at),
          role: current ? (r.member_role as MemberRole) : null,
          deliveredSeq: Number(r.delivered),
          readSeq: Number(r.read),
        };
      });
    },

    async createGroup(input) {
      try {
        await database.write(async (tx) => {
          try {
            await tx.insert(conversations).values({
              id: input.conversationId,
              kind: "group",
              membershipEpoch: 0,
              logHeadHash: input.hash,
              announcementsOnly: input.after.announcementsOnly,
              createdAt: input.now,
              updatedAt: input.now,
            });
          } catch (err) {
            if (isUniqueViolation(err)) throw new Refused("exists");
            throw err;
          }
          await tx.insert(membershipLog).values({
            conversationId: input.conversationId,
            epoch: 0,
            entry: Buffer.from(input.entry),
            createdAt: input.now,
          });
          await applyMembers(
            tx,
            input.conversationId,
            { lastSeq: 0, epoch: 0, now: input.now },
            input.after.members,
          );
        });
        return undefined;
      } catch (err) {
        if (err instanceof Refused) return "exists";
        throw err;
      }
    },

    async appendMembership(input) {
      try {
        await database.write(async (tx) => {
          // The head is checked and moved in one statement: a concurrent change loses.
          const [moved] = await tx
            .update(conversations)
            .set({
              membershipEpoch: input.epoch,
              logHeadHash: input.hash,
              announcementsOnly: input.after.announcementsOnly,
              updatedAt: input.now,
              ...(input.infoCiphertext
                ? { infoCiphertext: Buffer.from(input.infoCiphertext) }
                : {}),
            })
            .where(
              and(
                eq(conversations.id, input.conversationId),
                eq(conversations.kind, "group"),
                eq(conversations.logHeadHash, input.previousHash),
                eq(conversations.membershipEpoch, input.epoch - 1),
              ),
            )
            .returning({ lastSeq: conversations.lastSeq });
          if (!moved) throw new Refused("stale");
          await tx.insert(membershipLog).values({
            conversationId: input.conversationId,
            epoch: input.epoch,
            entry: Buffer.from(input.entry),
            createdAt: input.now,
          });
          await applyMembers(
            tx,
            input.conversationId,
            { lastSeq: moved.lastSeq, epoch: input.epoch, now: input.now },
            input.after.members,
          );
        });
        return undefined;
      } catch (err) {
        if (err instanceof Refused) return "stale";
        throw err;
      }
    },

    async membershipLog(id, afterEpoch) {
      const rows = await db
        .select({ entry: membershipLog.entry })
        .from(membershipLog)
        .where(and(eq(membershipLog.conversationId, id), gt(membershipLog.epoch, afterEpoch)))
        .orderBy(asc(membershipLog.epoch));
      return rows.map((r) => new Uint8Array(r.entry));
    },
  };
}

/**
 * The members of a conversation who get its messages, inside a transaction: current members
 * whose account still exists.
 */
export async function activeMembers(tx: SqlDb, conversationId: string): Promise<MemberRow[]> {
  const rows = await prepared(tx, "conversations.activeMembers", (db) =>
    db
      .select({ member: conversationMembers })
      .from(conversationMembers)
      .innerJoin(users, eq(users.id, conversationMembers.userId))
      .where(
        and(eq(conversationMembers.conversationId, sql.placeholder("id")), isNull(users.deletedAt)),
      )
      .prepare(),
  ).all({ id: conversationId });
  return rows.map((r) => r.member);
}

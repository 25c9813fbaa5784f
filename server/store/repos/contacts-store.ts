import { and, eq } from "drizzle-orm";
import type { ContactsStore } from "../../domain/ports/contacts.ts";
import type { UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { contacts } from "../schema.ts";

export function contactsStore(database: Database): ContactsStore {
  const pair = (userId: string, other: string) =>
    and(eq(contacts.userId, userId), eq(contacts.contactUserId, other));
  return {
    async list(userId) {
      const rows = await database.db.select().from(contacts).where(eq(contacts.userId, userId));
      return rows.map((r) => ({
        contactUserId: r.contactUserId as UserId,
        nicknameCiphertext: r.nicknameCiphertext ? new Uint8Array(r.nicknameCiphertext) : null,
        blocked: r.blocked,
        createdAt: r.createdAt,
        updatedAt: r.updatedAt,
      }));
    },
    async put(userId, contactUserId, changes, now) {
      const set: Partial<typeof contacts.$inferInsert> = { updatedAt: now };
      if (changes.nicknameCiphertext !== undefined) {
        set.nicknameCiphertext = changes.nicknameCiphertext
          ? Buffer.from(changes.nicknameCiphertext)
          : null;
      }
      if (changes.blocked !== undefined) set.blocked = changes.blocked;
      await database.write((tx) =>
        tx
          .insert(contacts)
          .values({ userId, contactUserId, createdAt: now, updatedAt: now, blocked: false, ...set })
          .onConflictDoUpdate({ target: [contacts.userId, contacts.contactUserId], set }),
      );
    },
    async remove(userId, contactUserId) {
      const rows = await database.write((tx) =>
        tx.delete(contacts).where(pair(userId, contactUserId)).returning({ u: contacts.userId }),
      );
      return rows.length > 0;
    },
    async isBlocked(userId, other) {
      const [row] = await database.db
        .select({ blocked: contacts.blocked })
        .from(contacts)
        .where(pair(userId, other))
        .limit(1);
      return row?.blocked === true;
    },
    async listedBy(userId) {
      const rows = await database.db
        .select({ owner: contacts.userId })
        .from(contacts)
        .where(and(eq(contacts.contactUserId, userId), eq(contacts.blocked, false)));
      return rows.map((r) => r.owner as UserId);
    },
    async isContact(userId, other) {
      const [row] = await database.db
        .select({ blocked: contacts.blocked })
        .from(contacts)
        .where(pair(userId, other))
        .limit(1);
      return row !== undefined && !row.blocked;
    },
  };
}

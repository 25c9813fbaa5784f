import { and, desc, eq, gt, isNull, lt } from "drizzle-orm";
import type { InviteRecord, InvitesStore } from "../../domain/ports/invites.ts";
import type { UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { invites } from "../schema.ts";

const toInvite = (r: typeof invites.$inferSelect): InviteRecord => ({
  id: r.id,
  createdBy: r.createdBy,
  note: r.note,
  maxUses: r.maxUses,
  uses: r.uses,
  forUserId: r.forUserId as UserId | null,
  admin: r.admin,
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
  revokedAt: r.revokedAt,
});

export function invitesStore(database: Database): InvitesStore {
  return {
    async create(input) {
      await database.write((tx) => tx.insert(invites).values(input));
    },
    async findByCodeHash(codeHash) {
      const [row] = await database.db
        .select()
        .from(invites)
        .where(eq(invites.codeHash, codeHash))
        .limit(1);
      return row ? toInvite(row) : undefined;
    },
    async list() {
      return (await database.db.select().from(invites).orderBy(desc(invites.createdAt))).map(
        toInvite,
      );
    },
    async revoke(id, now) {
      const rows = await database.write((tx) =>
        tx
          .update(invites)
          .set({ revokedAt: now })
          .where(and(eq(invites.id, id), isNull(invites.revokedAt)))
          .returning({ id: invites.id }),
      );
      return rows.length > 0;
    },
    async hasOpenSetupInvite(now) {
      const rows = await database.db
        .select({ id: invites.id })
        .from(invites)
        .where(
          and(
            eq(invites.admin, true),
            isNull(invites.forUserId),
            isNull(invites.revokedAt),
            gt(invites.expiresAt, now),
            lt(invites.uses, invites.maxUses),
          ),
        )
        .limit(1);
      return rows.length > 0;
    },
  };
}

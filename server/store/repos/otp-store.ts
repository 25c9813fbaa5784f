import { and, count, eq, gt, sql } from "drizzle-orm";
import type { OtpStore, TotpStore } from "../../domain/ports/auth.ts";
import type { Database } from "../database.ts";
import { otpChallenges, recoveryCodes, totp } from "../schema.ts";

export function otpStore(database: Database): OtpStore {
  return {
    async recentChallenges(destinationHmac, since) {
      const [row] = await database.db
        .select({ n: count() })
        .from(otpChallenges)
        .where(
          and(
            eq(otpChallenges.destinationHmac, destinationHmac),
            gt(otpChallenges.createdAt, since),
          ),
        );
      return row?.n ?? 0;
    },
    async create({ id, destinationHmac, codeHmac, now, expiresAt }) {
      await database.write((tx) =>
        tx
          .insert(otpChallenges)
          .values({ id, destinationHmac, codeHmac, createdAt: now, expiresAt }),
      );
    },
    async get(id) {
      const [row] = await database.db
        .select()
        .from(otpChallenges)
        .where(eq(otpChallenges.id, id))
        .limit(1);
      return row;
    },
    recordFailure(id) {
      return database.write(async (tx) => {
        const [row] = await tx
          .update(otpChallenges)
          .set({ attempts: sql`${otpChallenges.attempts} + 1` })
          .where(eq(otpChallenges.id, id))
          .returning({ attempts: otpChallenges.attempts });
        return row?.attempts ?? Number.POSITIVE_INFINITY;
      });
    },
    async markVerified(id, now) {
      await database.write((tx) =>
        tx.update(otpChallenges).set({ verifiedAt: now }).where(eq(otpChallenges.id, id)),
      );
    },
  };
}

export function totpStore(database: Database): TotpStore {
  return {
    async get(userId) {
      const [row] = await database.db.select().from(totp).where(eq(totp.userId, userId)).limit(1);
      return row ? { secret: row.secret, confirmedAt: row.confirmedAt } : undefined;
    },
    async begin(userId, secret, now) {
      await database.write((tx) =>
        tx
          .insert(totp)
          .values({ userId, secret, createdAt: now })
          .onConflictDoUpdate({
            target: totp.userId,
            set: { secret, createdAt: now, confirmedAt: null },
          }),
      );
    },
    async confirm(userId, hashes, now) {
      await database.write(async (tx) => {
        await tx.update(totp).set({ confirmedAt: now }).where(eq(totp.userId, userId));
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
        if (hashes.length > 0)
          await tx.insert(recoveryCodes).values(hashes.map((codeHash) => ({ userId, codeHash })));
      });
    },
    async remove(userId) {
      await database.write(async (tx) => {
        await tx.delete(totp).where(eq(totp.userId, userId));
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId));
      });
    },
    async spendRecoveryCode(userId, codeHash, now) {
      const rows = await database.write((tx) =>
        tx
          .update(recoveryCodes)
          .set({ usedAt: now })
          .where(
            and(
              eq(recoveryCodes.userId, userId),
              eq(recoveryCodes.codeHash, codeHash),
              sql`${recoveryCodes.usedAt} IS NULL`,
            ),
          )
          .returning({ userId: recoveryCodes.userId }),
      );
      return rows.length > 0;
    },
  };
}

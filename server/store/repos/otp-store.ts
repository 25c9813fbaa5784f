import { and, count, eq, gt, isNull, lt, sql } from "drizzle-orm";
import type { OtpStore, TotpStore } from "../../domain/ports/auth.ts";
import type { Database, SqlDb } from "../database.ts";
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
    async claimAttempt(id, now, maxAttempts) {
      // The count and the limit in one statement: parallel guesses cannot all read "0 tries".
      const [row] = await database.write((tx) =>
        tx
          .update(otpChallenges)
          .set({ attempts: sql`${otpChallenges.attempts} + 1` })
          .where(
            and(
              eq(otpChallenges.id, id),
              lt(otpChallenges.attempts, maxAttempts),
              gt(otpChallenges.expiresAt, now),
            ),
          )
          .returning({
            destinationHmac: otpChallenges.destinationHmac,
            codeHmac: otpChallenges.codeHmac,
            attempts: otpChallenges.attempts,
          }),
      );
      return row;
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
      // Only an unconfirmed row is replaced: a restart racing a confirm cannot turn the
      // registration lock off.
      const rows = await database.write((tx) =>
        tx
          .insert(totp)
          .values({ userId, secret, createdAt: now })
          .onConflictDoUpdate({
            target: totp.userId,
            set: { secret, createdAt: now },
            setWhere: isNull(totp.confirmedAt),
          })
          .returning({ userId: totp.userId }),
      );
      return rows.length > 0;
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
  };
}

/**
 * Spends a recovery code (by hash) once, inside the caller's transaction: the identity reset
 * that needs it (accounts.ts resetIdentity), so a reset refused later keeps the code.
 */
export async function spendRecoveryCode(
  tx: SqlDb,
  userId: string,
  codeHash: string,
  now: number,
): Promise<boolean> {
  const rows = await tx
    .update(recoveryCodes)
    .set({ usedAt: now })
    .where(
      and(
        eq(recoveryCodes.userId, userId),
        eq(recoveryCodes.codeHash, codeHash),
        isNull(recoveryCodes.usedAt),
      ),
    )
    .returning({ userId: recoveryCodes.userId });
  return rows.length > 0;
}

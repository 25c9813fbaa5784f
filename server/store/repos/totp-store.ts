import { and, eq, isNull } from "drizzle-orm";
import type { TotpStore } from "../../domain/ports/totp.ts";
import type { Database, SqlDb } from "../database.ts";
import { recoveryCodes, totp } from "../schema.ts";

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

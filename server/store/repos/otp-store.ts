import { and, count, eq, gt, lt, sql } from "drizzle-orm";
import type { OtpStore } from "../../domain/ports/one-time-codes.ts";
import type { Database } from "../database.ts";
import { otpChallenges } from "../schema.ts";

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

import { and, eq, gt, isNotNull, isNull, lt, sql } from "drizzle-orm";
import type { ProvisioningStore } from "../../domain/ports/provisioning.ts";
import type { Database } from "../database.ts";
import { provisioningSlots } from "../schema.ts";

export function provisioningStore(database: Database): ProvisioningStore {
  return {
    async create({ id, readerHash, now, expiresAt }) {
      await database.write((tx) =>
        tx.insert(provisioningSlots).values({ id, readerHash, createdAt: now, expiresAt }),
      );
    },
    async fill(id, envelope, now) {
      const rows = await database.write((tx) =>
        tx
          .update(provisioningSlots)
          .set({ envelope: Buffer.from(envelope) })
          .where(
            and(
              eq(provisioningSlots.id, id),
              isNull(provisioningSlots.envelope),
              gt(provisioningSlots.expiresAt, now),
            ),
          )
          .returning({ id: provisioningSlots.id }),
      );
      return rows.length > 0;
    },
    async peek(id, now) {
      // The read connection: a waiting reader never queues behind (or holds) the write lock.
      const [row] = await database.db
        .select({
          readerHash: provisioningSlots.readerHash,
          filled: sql<number>`${provisioningSlots.envelope} IS NOT NULL`,
        })
        .from(provisioningSlots)
        .where(and(eq(provisioningSlots.id, id), gt(provisioningSlots.expiresAt, now)))
        .limit(1);
      return row ? { readerHash: row.readerHash, filled: Boolean(Number(row.filled)) } : undefined;
    },
    async take(id, now) {
      const [row] = await database.write((tx) =>
        tx
          .delete(provisioningSlots)
          .where(
            and(
              eq(provisioningSlots.id, id),
              isNotNull(provisioningSlots.envelope),
              gt(provisioningSlots.expiresAt, now),
            ),
          )
          .returning({ envelope: provisioningSlots.envelope }),
      );
      return row?.envelope ? new Uint8Array(row.envelope) : undefined;
    },
    async sweep(now) {
      await database.write((tx) =>
        tx.delete(provisioningSlots).where(lt(provisioningSlots.expiresAt, now)),
      );
    },
  };
}

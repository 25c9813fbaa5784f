import { and, eq, gt, isNull, lt } from "drizzle-orm";
import type { ProvisioningStore } from "../../domain/ports/directory.ts";
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
    take(id, readerHash, now) {
      return database.write(async (tx) => {
        const [row] = await tx
          .select()
          .from(provisioningSlots)
          .where(and(eq(provisioningSlots.id, id), gt(provisioningSlots.expiresAt, now)))
          .limit(1);
        if (!row || row.readerHash !== readerHash) return "not_found" as const;
        if (!row.envelope) return "empty" as const;
        await tx.delete(provisioningSlots).where(eq(provisioningSlots.id, id));
        return new Uint8Array(row.envelope);
      });
    },
    async sweep(now) {
      await database.write((tx) =>
        tx.delete(provisioningSlots).where(lt(provisioningSlots.expiresAt, now)),
      );
    },
  };
}

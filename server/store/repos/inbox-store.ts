import { and, eq, lte } from "drizzle-orm";
import type { InboxEnvelope, InboxStore } from "../../domain/ports/inbox.ts";
import type { DeviceId, UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { inbox } from "../schema.ts";

export const toEnvelope = (r: typeof inbox.$inferSelect): InboxEnvelope => ({
  pos: r.pos,
  deviceId: r.deviceId as DeviceId,
  senderUserId: r.senderUserId as UserId,
  senderDeviceId: r.senderDeviceId as DeviceId,
  envelope: new Uint8Array(r.envelope),
  createdAt: r.createdAt,
  expiresAt: r.expiresAt,
});

export function inboxStore(database: Database): InboxStore {
  return {
    put(envelopes) {
      return database.write(async (tx) => {
        if (envelopes.length === 0) return [];
        const rows = await tx
          .insert(inbox)
          .values(envelopes.map((e) => ({ ...e, envelope: Buffer.from(e.envelope) })))
          .returning();
        return rows.map(toEnvelope);
      });
    },
    async ack(deviceId, upToPos) {
      const rows = await database.write((tx) =>
        tx
          .delete(inbox)
          .where(and(eq(inbox.deviceId, deviceId), lte(inbox.pos, upToPos)))
          .returning({ pos: inbox.pos }),
      );
      return rows.length;
    },
    async eraseExpired(now) {
      const rows = await database.write((tx) =>
        tx.delete(inbox).where(lte(inbox.expiresAt, now)).returning({ pos: inbox.pos }),
      );
      return rows.length;
    },
  };
}

import { and, eq, gt, lt } from "drizzle-orm";
import type { AuthStore } from "../../domain/ports/auth.ts";
import type { DeviceId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { refreshTokens, serverSecrets, wsTickets } from "../schema.ts";
import { revokeTokens } from "./account-writes.ts";

export function authStore(database: Database): AuthStore {
  return {
    async addRefreshToken({ id, deviceId, tokenHash, now, expiresAt }) {
      await database.write(async (tx) => {
        // The device's expired tokens go at the same time, so the table stays bounded.
        await tx
          .delete(refreshTokens)
          .where(and(eq(refreshTokens.deviceId, deviceId), lt(refreshTokens.expiresAt, now)));
        await tx
          .insert(refreshTokens)
          .values({ id, deviceId, tokenHash, createdAt: now, expiresAt });
      });
    },

    spendRefreshToken({ id, tokenHash, now }) {
      return database.write(async (tx) => {
        const [row] = await tx
          .select()
          .from(refreshTokens)
          .where(and(eq(refreshTokens.id, id), eq(refreshTokens.tokenHash, tokenHash)))
          .limit(1);
        if (!row || row.expiresAt <= now) return "invalid" as const;
        if (row.revokedAt !== null)
          return { deviceId: row.deviceId as DeviceId, revoked: true as const };
        if (row.usedAt !== null) {
          // Reuse: someone else holds a copy. Everything of this device is cut off.
          await revokeTokens(tx, row.deviceId, now);
          return { deviceId: row.deviceId as DeviceId, reused: true as const };
        }
        await tx.update(refreshTokens).set({ usedAt: now }).where(eq(refreshTokens.id, id));
        return { deviceId: row.deviceId as DeviceId };
      });
    },

    async addWsTicket({ ticketHash, deviceId, expiresAt }) {
      await database.write(async (tx) => {
        // Old tickets of any device go at the same time: the table stays small.
        await tx.delete(wsTickets).where(lt(wsTickets.expiresAt, expiresAt - 60_000));
        await tx.insert(wsTickets).values({ ticketHash, deviceId, expiresAt });
      });
    },

    spendWsTicket(ticketHash, now) {
      return database.write(async (tx) => {
        const [row] = await tx
          .delete(wsTickets)
          .where(and(eq(wsTickets.ticketHash, ticketHash), gt(wsTickets.expiresAt, now)))
          .returning({ deviceId: wsTickets.deviceId });
        return row?.deviceId as DeviceId | undefined;
      });
    },

    async secret(name, make, now) {
      const read = async () => {
        const [row] = await database.db
          .select()
          .from(serverSecrets)
          .where(eq(serverSecrets.name, name))
          .limit(1);
        return row ? new Uint8Array(row.value) : undefined;
      };
      const existing = await read();
      if (existing) return existing;
      // Several nodes may race at first start: the first insert wins, everyone reads it.
      await database.write((tx) =>
        tx
          .insert(serverSecrets)
          .values({ name, value: Buffer.from(make()), createdAt: now })
          .onConflictDoNothing(),
      );
      return (await read())!;
    },
  };
}

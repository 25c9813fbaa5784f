import { count, eq, sql } from "drizzle-orm";
import type { PrekeysRepository, SignedKey } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { oneTimePrekeys } from "../schema.ts";

export function prekeysRepository(database: Database): PrekeysRepository {
  return {
    async addOneTime(deviceId, keys) {
      if (keys.length === 0) return;
      await database.write((tx) =>
        tx.insert(oneTimePrekeys).values(
          keys.map((k) => ({
            deviceId,
            keyId: k.keyId,
            publicKey: Buffer.from(k.publicKey),
            signature: Buffer.from(k.signature),
          })),
        ),
      );
    },
    async claimOneTime(deviceId) {
      // One statement picks and deletes the key, so no other claim (in this process or
      // another sharing the database) can receive it too.
      type Row = { key_id: number; public_key: Uint8Array; signature: Uint8Array };
      const rows = await database.write(async (tx) =>
        tx.all<Row>(sql`
          DELETE FROM one_time_prekeys
          WHERE device_id = ${deviceId}
            AND key_id = (SELECT min(key_id) FROM one_time_prekeys WHERE device_id = ${deviceId})
          RETURNING key_id, public_key, signature`),
      );
      const row = rows[0];
      if (!row) return undefined;
      return {
        keyId: Number(row.key_id),
        publicKey: new Uint8Array(row.public_key),
        signature: new Uint8Array(row.signature),
      } satisfies SignedKey;
    },
    async countOneTime(deviceId) {
      const [row] = await database.db
        .select({ n: count() })
        .from(oneTimePrekeys)
        .where(eq(oneTimePrekeys.deviceId, deviceId));
      return row?.n ?? 0;
    },
  };
}

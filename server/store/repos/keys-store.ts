import { and, count, eq, isNull, sql } from "drizzle-orm";
import type { DeviceBundleRecord, KeysStore } from "../../domain/ports/directory.ts";
import type { DeviceId } from "../../domain/ports.ts";
import type { Database, SqlDb } from "../database.ts";
import { devices, oneTimePrekeys, pqPrekeys, signedPrekeys } from "../schema.ts";
import { refusalOf, storePrekeys } from "./account-writes.ts";

/** Picks and deletes one key in one statement, so no other claim (in any process) gets it. */
async function claimOneTime(tx: SqlDb, deviceId: string): Promise<Uint8Array | undefined> {
  const [row] = (await tx.all(sql`
    DELETE FROM one_time_prekeys
    WHERE device_id = ${deviceId}
      AND key_id = (SELECT min(key_id) FROM one_time_prekeys WHERE device_id = ${deviceId})
    RETURNING encoded`)) as { encoded: Uint8Array | null }[];
  return row?.encoded ? new Uint8Array(row.encoded) : undefined;
}

async function claimPq(tx: SqlDb, deviceId: string): Promise<Uint8Array | undefined> {
  const [oneTime] = (await tx.all(sql`
    DELETE FROM pq_prekeys
    WHERE device_id = ${deviceId} AND last_resort = 0
      AND key_id = (SELECT min(key_id) FROM pq_prekeys WHERE device_id = ${deviceId} AND last_resort = 0)
    RETURNING encoded`)) as { encoded: Uint8Array | null }[];
  if (oneTime?.encoded) return new Uint8Array(oneTime.encoded);
  const [lastResort] = await tx
    .select({ encoded: pqPrekeys.encoded })
    .from(pqPrekeys)
    .where(and(eq(pqPrekeys.deviceId, deviceId), eq(pqPrekeys.lastResort, true)))
    .limit(1);
  return lastResort?.encoded ? new Uint8Array(lastResort.encoded) : undefined;
}

export function keysStore(database: Database): KeysStore {
  return {
    async upload(deviceId, keys, now) {
      const refused = await refusalOf(() =>
        database.write((tx) => storePrekeys(tx, deviceId, keys, now)),
      );
      return refused ? "key_exists" : undefined;
    },

    async counts(deviceId) {
      const n = async (
        table: typeof oneTimePrekeys | typeof pqPrekeys | typeof signedPrekeys,
        where = sql`1`,
      ) => {
        const [row] = await database.db
          .select({ n: count() })
          .from(table)
          .where(and(eq(table.deviceId, deviceId), where));
        return row?.n ?? 0;
      };
      return {
        oneTime: await n(oneTimePrekeys),
        pqOneTime: await n(pqPrekeys, eq(pqPrekeys.lastResort, false)),
        hasSignedPrekey: (await n(signedPrekeys)) > 0,
        hasLastResort: (await n(pqPrekeys, eq(pqPrekeys.lastResort, true))) > 0,
      };
    },

    claimBundles(userId, deviceId) {
      return database.write(async (tx) => {
        const rows = await tx
          .select({ id: devices.id, certificate: devices.certificate })
          .from(devices)
          .where(
            and(
              eq(devices.userId, userId),
              isNull(devices.revokedAt),
              deviceId ? eq(devices.id, deviceId) : sql`1`,
            ),
          );
        const bundles: DeviceBundleRecord[] = [];
        for (const d of rows) {
          const [spk] = await tx
            .select({ encoded: signedPrekeys.encoded })
            .from(signedPrekeys)
            .where(eq(signedPrekeys.deviceId, d.id))
            .limit(1);
          const pq = await claimPq(tx, d.id);
          // A device without a signed or PQ prekey cannot be reached yet: leave it out.
          if (!spk?.encoded || !pq) continue;
          const oneTimePrekey = await claimOneTime(tx, d.id);
          const [left] = await tx
            .select({ n: count() })
            .from(oneTimePrekeys)
            .where(eq(oneTimePrekeys.deviceId, d.id));
          bundles.push({
            deviceId: d.id as DeviceId,
            certificate: new Uint8Array(d.certificate),
            signedPrekey: new Uint8Array(spk.encoded),
            oneTimePrekey,
            pqPrekey: pq,
            oneTimeLeft: left?.n ?? 0,
          });
        }
        return bundles;
      });
    },
  };
}

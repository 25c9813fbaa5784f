import { and, eq, isNull, sql } from "drizzle-orm";
import type { DeviceBundleRecord, KeysStore, PrekeyCaps } from "../../domain/ports/keys.ts";
import type { DeviceId } from "../../domain/ports.ts";
import type { Database, SqlDb } from "../database.ts";
import { devices, pqPrekeys, signedPrekeys } from "../schema.ts";
import { refusalOf, storePrekeys } from "./account-writes.ts";

/** Thrown inside the upload transaction to roll it back when a cap would be passed. */
class PrekeyCapReached extends Error {}

/** Picks and deletes one key in one statement, so no other claim (in any process) gets it. */
async function claimOneTime(tx: SqlDb, deviceId: string): Promise<Uint8Array | undefined> {
  const [row] = (await tx.all(sql`
    DELETE FROM one_time_prekeys
    WHERE device_id = ${deviceId}
      AND key_id = (SELECT min(key_id) FROM one_time_prekeys WHERE device_id = ${deviceId})
    RETURNING encoded`)) as { encoded: Uint8Array | null }[];
  return row?.encoded ? new Uint8Array(row.encoded) : undefined;
}

/** A one-time PQ prekey (deleted as it is taken), else the last-resort one (kept). */
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

/** Every count of a device's prekeys, in one statement. */
async function countPrekeys(db: SqlDb, deviceId: string) {
  const [row] = (await db.all(sql`
    SELECT
      (SELECT count(*) FROM one_time_prekeys WHERE device_id = ${deviceId}) AS one_time,
      (SELECT count(*) FROM pq_prekeys WHERE device_id = ${deviceId} AND last_resort = 0) AS pq_one_time,
      EXISTS (SELECT 1 FROM signed_prekeys WHERE device_id = ${deviceId}) AS signed,
      EXISTS (SELECT 1 FROM pq_prekeys WHERE device_id = ${deviceId} AND last_resort = 1) AS last_resort
  `)) as { one_time: number; pq_one_time: number; signed: number; last_resort: number }[];
  return {
    oneTime: Number(row?.one_time ?? 0),
    pqOneTime: Number(row?.pq_one_time ?? 0),
    hasSignedPrekey: Number(row?.signed ?? 0) > 0,
    hasLastResort: Number(row?.last_resort ?? 0) > 0,
  };
}

export function keysStore(database: Database): KeysStore {
  return {
    async upload(deviceId, keys, now, caps: PrekeyCaps) {
      try {
        const refused = await refusalOf(() =>
          database.write(async (tx) => {
            // Counted under the write lock, before the insert: the cap holds across processes.
            const stored = await countPrekeys(tx, deviceId);
            if (
              stored.oneTime + keys.oneTimePrekeys.length > caps.oneTime ||
              stored.pqOneTime + keys.pqOneTimePrekeys.length > caps.pqOneTime
            )
              throw new PrekeyCapReached();
            await storePrekeys(tx, deviceId, keys, now);
          }),
        );
        return refused ? "key_exists" : undefined;
      } catch (err) {
        if (err instanceof PrekeyCapReached) return "limit_exceeded";
        throw err;
      }
    },

    counts: (deviceId) => countPrekeys(database.db, deviceId),

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
          // A device without a signed prekey cannot be reached yet: leave it out before
          // claiming anything, or its one-time keys would be spent for nothing.
          if (!spk?.encoded) continue;
          // No PQ prekey at all (none claimed either): not reachable yet.
          const pq = await claimPq(tx, d.id);
          if (!pq) continue;
          const oneTimePrekey = await claimOneTime(tx, d.id);
          const left = await countPrekeys(tx, d.id);
          bundles.push({
            deviceId: d.id as DeviceId,
            certificate: new Uint8Array(d.certificate),
            signedPrekey: new Uint8Array(spk.encoded),
            oneTimePrekey,
            pqPrekey: pq,
            oneTimeLeft: left.oneTime,
            pqOneTimeLeft: left.pqOneTime,
          });
        }
        return bundles;
      });
    },
  };
}

import { and, asc, count, desc, eq, gt, isNull } from "drizzle-orm";
import type {
  DeviceAuthRecord,
  DeviceListRecord,
  DeviceRecord,
  DevicesStore,
} from "../../domain/ports/accounts.ts";
import type { DeviceId, UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import {
  deviceLists,
  deviceSecrets,
  devices,
  oneTimePrekeys,
  pqPrekeys,
  signedPrekeys,
  users,
  wsTickets,
} from "../schema.ts";
import {
  appendDeviceList,
  insertDevice,
  refusalOf,
  revokeTokens,
  WriteRefusal,
} from "./account-writes.ts";

const toList = (r: typeof deviceLists.$inferSelect): DeviceListRecord => ({
  version: r.version,
  encoded: new Uint8Array(r.encoded),
  hash: new Uint8Array(r.hash),
});

export function devicesStore(database: Database): DevicesStore {
  const { db } = database;
  const selectDevice = () =>
    db
      .select({ d: devices, name: deviceSecrets.nameCiphertext })
      .from(devices)
      .leftJoin(deviceSecrets, eq(deviceSecrets.deviceId, devices.id));
  const toDevice = ({
    d,
    name,
  }: {
    d: typeof devices.$inferSelect;
    name: Uint8Array | null;
  }): DeviceRecord => ({
    id: d.id as DeviceId,
    userId: d.userId as UserId,
    platform: d.platform,
    identityKey: new Uint8Array(d.identityKey),
    certificate: new Uint8Array(d.certificate),
    nameCiphertext: name ? new Uint8Array(name) : null,
    createdAt: d.createdAt,
    lastActiveAt: d.lastActiveAt,
    revokedAt: d.revokedAt,
  });

  return {
    async authInfo(deviceId) {
      const [row] = await db
        .select({
          deviceId: devices.id,
          userId: devices.userId,
          secretHash: deviceSecrets.secretHash,
          tokensRevokedAt: deviceSecrets.tokensRevokedAt,
          deviceRevokedAt: devices.revokedAt,
          userDisabledAt: users.disabledAt,
          userDeletedAt: users.deletedAt,
          isAdmin: users.isAdmin,
        })
        .from(devices)
        .innerJoin(users, eq(users.id, devices.userId))
        .leftJoin(deviceSecrets, eq(deviceSecrets.deviceId, devices.id))
        .where(eq(devices.id, deviceId))
        .limit(1);
      if (!row) return undefined;
      return {
        ...row,
        deviceId: row.deviceId as DeviceId,
        userId: row.userId as UserId,
        secretHash: row.secretHash ?? "",
      } satisfies DeviceAuthRecord;
    },

    async list(userId) {
      const rows = await selectDevice()
        .where(and(eq(devices.userId, userId), isNull(devices.revokedAt)))
        .orderBy(asc(devices.createdAt));
      return rows.map(toDevice);
    },

    async get(deviceId) {
      const [row] = await selectDevice().where(eq(devices.id, deviceId)).limit(1);
      return row ? toDevice(row) : undefined;
    },

    link({ device, deviceList, previousHash, keys, maxDevices, now }) {
      return refusalOf(() =>
        database.write(async (tx) => {
          const [active] = await tx
            .select({ n: count() })
            .from(devices)
            .where(and(eq(devices.userId, device.userId), isNull(devices.revokedAt)));
          if ((active?.n ?? 0) >= maxDevices) throw new WriteRefusal("device_limit");
          await appendDeviceList(tx, device.userId, deviceList, previousHash, now);
          await insertDevice(tx, device, keys, now);
        }),
      ) as ReturnType<DevicesStore["link"]>;
    },

    async rename(userId, deviceId, nameCiphertext) {
      return database.write(async (tx) => {
        const [owned] = await tx
          .select({ id: devices.id })
          .from(devices)
          .where(
            and(eq(devices.id, deviceId), eq(devices.userId, userId), isNull(devices.revokedAt)),
          );
        if (!owned) return false;
        await tx
          .update(deviceSecrets)
          .set({ nameCiphertext: nameCiphertext ? Buffer.from(nameCiphertext) : null })
          .where(eq(deviceSecrets.deviceId, deviceId));
        return true;
      });
    },

    revoke({ userId, deviceId, deviceList, previousHash, now }) {
      return refusalOf(() =>
        database.write(async (tx) => {
          const revoked = await tx
            .update(devices)
            .set({ revokedAt: now })
            .where(
              and(eq(devices.id, deviceId), eq(devices.userId, userId), isNull(devices.revokedAt)),
            )
            .returning({ id: devices.id });
          if (revoked.length === 0) throw new WriteRefusal("not_found");
          await appendDeviceList(tx, userId, deviceList, previousHash, now);
          // What the device could use goes. Its row, the hash of its secret and its spent
          // refresh tokens stay, so a device that was offline is told `device_revoked` when it
          // comes back, instead of an error that looks like a wrong secret.
          for (const table of [signedPrekeys, oneTimePrekeys, pqPrekeys, wsTickets]) {
            await tx.delete(table).where(eq(table.deviceId, deviceId));
          }
          await revokeTokens(tx, deviceId, now);
          await tx
            .update(deviceSecrets)
            .set({ nameCiphertext: null })
            .where(eq(deviceSecrets.deviceId, deviceId));
        }),
      );
    },

    async deviceLists(userId, since) {
      const rows = await db
        .select()
        .from(deviceLists)
        .where(and(eq(deviceLists.userId, userId), gt(deviceLists.version, since)))
        .orderBy(asc(deviceLists.version));
      return rows.map(toList);
    },

    async latestDeviceList(userId) {
      const [row] = await db
        .select()
        .from(deviceLists)
        .where(eq(deviceLists.userId, userId))
        .orderBy(desc(deviceLists.version))
        .limit(1);
      return row ? toList(row) : undefined;
    },
  };
}

import { eq } from "drizzle-orm";
import type { Device, DeviceId, DevicesRepository, UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { devices } from "../schema.ts";

type DeviceRow = typeof devices.$inferSelect;

const toDevice = (row: DeviceRow): Device => ({
  id: row.id as DeviceId,
  userId: row.userId as UserId,
  identityKey: new Uint8Array(row.identityKey),
  certificate: new Uint8Array(row.certificate),
  platform: row.platform,
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});

export function devicesRepository(database: Database): DevicesRepository {
  return {
    async create(input) {
      const row = {
        ...input,
        id: Bun.randomUUIDv7(),
        identityKey: Buffer.from(input.identityKey),
        certificate: Buffer.from(input.certificate),
      };
      const [created] = await database.write((tx) => tx.insert(devices).values(row).returning());
      return toDevice(created!);
    },
    async listByUser(userId) {
      const rows = await database.db
        .select()
        .from(devices)
        .where(eq(devices.userId, userId))
        .orderBy(devices.createdAt);
      return rows.map(toDevice);
    },
  };
}

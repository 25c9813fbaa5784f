import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DRIVERS, freshDatabase, type TestDatabase } from "../../../tests/support/databases.ts";
import { type DeviceId, UsernameTakenError } from "../../domain/ports.ts";
import { users } from "../schema.ts";
import { auditRepository } from "./audit.ts";
import { devicesRepository } from "./devices.ts";
import { prekeysRepository } from "./prekeys.ts";
import { usersRepository } from "./users.ts";

const key = (n: number) => ({
  keyId: n,
  publicKey: new Uint8Array(32).fill(n),
  signature: new Uint8Array(64).fill(n),
});

for (const driver of DRIVERS) {
  describe(`repositories on ${driver}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await freshDatabase(driver);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    async function newDevice() {
      const user = await usersRepository(t.database).create({ username: "alice", now: 1000 });
      return devicesRepository(t.database).create({
        userId: user.id,
        identityKey: new Uint8Array(32).fill(7),
        certificate: new Uint8Array(64).fill(8),
        platform: "cli",
        createdAt: 1000,
      });
    }

    test("a user is stored and found by id and username", async () => {
      const users = usersRepository(t.database);
      const alice = await users.create({ username: "alice", isAdmin: true, now: 1234 });
      expect(alice.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(await users.findByUsername("alice")).toEqual(alice);
      expect(await users.findById(alice.id)).toEqual({ ...alice, isAdmin: true, createdAt: 1234 });
      expect(await users.findByUsername("bob")).toBeUndefined();
    });

    test("a username is unique, enforced by the database", async () => {
      const users = usersRepository(t.database);
      await users.create({ username: "alice", now: 1 });
      const second = users.create({ username: "alice", now: 2 });
      expect(second).rejects.toBeInstanceOf(UsernameTakenError);
      await second.catch(() => {});
    });

    test("devices belong to their user and keep their key bytes", async () => {
      const device = await newDevice();
      const list = await devicesRepository(t.database).listByUser(device.userId);
      expect(list).toHaveLength(1);
      expect(list[0]!.identityKey).toEqual(new Uint8Array(32).fill(7));
      expect(list[0]!.platform).toBe("cli");
    });

    test("a device row needs an existing user (foreign keys are on)", async () => {
      const create = devicesRepository(t.database).create({
        userId: "no-such-user" as never,
        identityKey: new Uint8Array(32),
        certificate: new Uint8Array(64),
        platform: "web",
        createdAt: 1,
      });
      const err = await create.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(String((err?.cause as Error | undefined)?.message ?? err?.message)).toMatch(
        /FOREIGN KEY/i,
      );
    });

    test("one-time prekeys are handed out once each, lowest id first", async () => {
      const device = await newDevice();
      const prekeys = prekeysRepository(t.database);
      await prekeys.addOneTime(device.id, [key(3), key(1), key(2)]);
      expect(await prekeys.countOneTime(device.id)).toBe(3);
      const claimed = await Promise.all([1, 2, 3, 4].map(() => prekeys.claimOneTime(device.id)));
      const ids = claimed.map((k) => k?.keyId);
      expect(ids.filter((id) => id !== undefined).sort()).toEqual([1, 2, 3]);
      expect(ids.filter((id) => id === undefined)).toHaveLength(1);
      expect(claimed.find((k) => k?.keyId === 2)?.publicKey).toEqual(new Uint8Array(32).fill(2));
      expect(await prekeys.countOneTime(device.id)).toBe(0);
    });

    test("a prekey id cannot be published twice for a device", async () => {
      const device = await newDevice();
      const prekeys = prekeysRepository(t.database);
      await prekeys.addOneTime(device.id, [key(1)]);
      const again = prekeys.addOneTime(device.id, [key(1)]);
      expect(again).rejects.toThrow();
      await again.catch(() => {});
      expect(await prekeys.countOneTime(device.id)).toBe(1);
    });

    test("claiming for an unknown device finds nothing", async () => {
      expect(await prekeysRepository(t.database).claimOneTime("x" as DeviceId)).toBeUndefined();
    });

    test("the audit log lists newest first and filters", async () => {
      const audit = auditRepository(t.database);
      await audit.append({
        at: 1,
        actor: "admin-cli",
        action: "user.create",
        target: "u1",
        details: { admin: true },
      });
      await audit.append({ at: 2, actor: "u1", action: "device.add", target: "d1", details: null });
      await audit.append({
        at: 3,
        actor: "admin-cli",
        action: "user.create",
        target: "u2",
        details: null,
      });
      const all = await audit.list();
      expect(all.map((e) => e.target)).toEqual(["u2", "d1", "u1"]);
      expect(all[2]!.details).toEqual({ admin: true });
      expect((await audit.list({ action: "user.create" })).map((e) => e.target)).toEqual([
        "u2",
        "u1",
      ]);
      expect((await audit.list({ since: 2, actor: "u1" })).map((e) => e.target)).toEqual(["d1"]);
      expect(await audit.list({ limit: 1 })).toHaveLength(1);
    });

    test("a failed write transaction leaves nothing behind", async () => {
      const repo = usersRepository(t.database);
      const failing = t.database.write(async (tx) => {
        await tx.insert(users).values({ id: "x", username: "carol", createdAt: 1, updatedAt: 1 });
        throw new Error("boom");
      });
      expect(failing).rejects.toThrow("boom");
      await failing.catch(() => {});
      expect(await repo.findByUsername("carol")).toBeUndefined();
    });
  });
}

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import {
  MAX_STORED_ONE_TIME_PREKEYS,
  MAX_STORED_PQ_ONE_TIME_PREKEYS,
} from "../../../protocol/api/prekeys.ts";
import { DRIVERS, freshDatabase, type TestDatabase } from "../../../tests/support/databases.ts";
import {
  createAccountInput,
  deviceList,
  deviceRecord,
  firstPrekeys,
  oneTimePrekeys,
  pendingAccountInput,
  prekey,
  prekeyIdOf,
  testUserId,
} from "../../../tests/support/store-inputs.ts";
import { users } from "../schema.ts";
import { accountsStore } from "./accounts.ts";
import { auditRepository } from "./audit.ts";
import { devicesStore } from "./devices-store.ts";
import { keysStore } from "./keys-store.ts";

// What each driver must get right itself: constraint errors mapped to refusals, bytes that
// come back as stored, foreign keys on, rollback. The flows above these are tested over HTTP
// (tests/accounts), mostly on the default driver.
const CAPS = { oneTime: MAX_STORED_ONE_TIME_PREKEYS, pqOneTime: MAX_STORED_PQ_ONE_TIME_PREKEYS };

for (const driver of DRIVERS) {
  describe(`repositories on ${driver}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await freshDatabase(driver);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    test("a username is unique, enforced by the database, for full and pending accounts", async () => {
      const accounts = accountsStore(t.database);
      expect(await accounts.createAccount(createAccountInput(1, { username: "alice" }))).toBe(
        undefined,
      );
      expect(await accounts.createAccount(createAccountInput(2, { username: "alice" }))).toBe(
        "username_taken",
      );
      expect(
        await accounts.createPendingAccount(pendingAccountInput(3, { username: "alice" })),
      ).toBe("username_taken");
      expect(
        await accounts.createPendingAccount(
          pendingAccountInput(4, { username: "bob", isAdmin: true }),
        ),
      ).toBeUndefined();
      expect(await accounts.createAccount(createAccountInput(5, { username: "bob" }))).toBe(
        "username_taken",
      );
      // The refused registrations left nothing behind, not even their devices.
      expect(await accounts.findByIds([1, 2, 3, 4, 5].map(testUserId))).toHaveLength(2);
      expect(await devicesStore(t.database).get(deviceRecord(2).id)).toBeUndefined();
      expect((await accounts.findByUsername("alice"))?.id).toBe(testUserId(1));
      expect(await accounts.findByUsername("bob")).toMatchObject({ isAdmin: true });
    });

    test("an account, its device and its keys come back byte for byte", async () => {
      const input = createAccountInput(1);
      await accountsStore(t.database).createAccount(input);
      expect((await accountsStore(t.database).findById(input.user.id))?.accountKey).toEqual(
        input.user.accountKey,
      );
      const [device] = await devicesStore(t.database).list(input.user.id);
      expect(device).toMatchObject({
        identityKey: input.device.identityKey,
        certificate: input.device.certificate,
        platform: "cli",
      });
      const [bundle] = await keysStore(t.database).claimBundles(input.user.id);
      expect(bundle).toMatchObject({
        deviceId: input.device.id,
        certificate: input.device.certificate,
        signedPrekey: input.keys.signedPrekey!.encoded,
        oneTimePrekey: input.keys.oneTimePrekeys[0]!.encoded,
        pqPrekey: input.keys.pqLastResort!.encoded,
      });
    });

    test("a device needs an existing account (foreign keys are on)", async () => {
      const link = devicesStore(t.database).link({
        device: deviceRecord(99),
        deviceList: deviceList(1),
        previousHash: new Uint8Array(32),
        keys: firstPrekeys([]),
        maxDevices: 5,
        now: 1,
      });
      const err = await link.then(
        () => undefined,
        (e: Error) => e,
      );
      expect(String((err?.cause as Error | undefined)?.message ?? err?.message)).toMatch(
        /FOREIGN KEY/i,
      );
    });

    test("one-time prekeys are handed out once each, lowest id first", async () => {
      const input = createAccountInput(1, {
        oneTime: [prekey("oneTime", 3), prekey("oneTime", 1), prekey("oneTime", 2)],
      });
      await accountsStore(t.database).createAccount(input);
      const keys = keysStore(t.database);
      const claim = async () => (await keys.claimBundles(input.user.id, input.device.id))[0]!;
      const first = await claim();
      expect(prekeyIdOf(first.oneTimePrekey!)).toBe(1);
      expect(first.oneTimeLeft).toBe(2);
      const rest = await Promise.all([claim(), claim(), claim()]);
      const ids = rest.map((b) => b.oneTimePrekey && prekeyIdOf(b.oneTimePrekey));
      expect(ids.filter((id) => id !== undefined).sort()).toEqual([2, 3]);
      // With none left, the bundle still comes, without a one-time prekey.
      const empty = rest.find((b) => b.oneTimePrekey === undefined);
      expect(empty).toMatchObject({ oneTimeLeft: 0, pqPrekey: input.keys.pqLastResort!.encoded });
      expect((await keys.counts(input.device.id)).oneTime).toBe(0);
    });

    test("a prekey id cannot be published twice for a device", async () => {
      const input = createAccountInput(1, { oneTime: oneTimePrekeys(1) });
      await accountsStore(t.database).createAccount(input);
      const keys = keysStore(t.database);
      const again = { oneTimePrekeys: oneTimePrekeys(2), pqOneTimePrekeys: [] };
      expect(await keys.upload(input.device.id, again, 2, CAPS)).toBe("key_exists");
      // Refused whole: key 2 of the same upload was not stored either.
      expect((await keys.counts(input.device.id)).oneTime).toBe(1);
    });

    test("claiming for an unknown account finds nothing", async () => {
      expect(await keysStore(t.database).claimBundles(testUserId(99))).toEqual([]);
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
      const failing = t.database.write(async (tx) => {
        await tx.insert(users).values({ id: "x", username: "carol", createdAt: 1, updatedAt: 1 });
        throw new Error("boom");
      });
      expect(failing).rejects.toThrow("boom");
      await failing.catch(() => {});
      expect(await accountsStore(t.database).findByUsername("carol")).toBeUndefined();
    });
  });
}

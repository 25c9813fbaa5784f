import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { DRIVERS, freshDatabase, type TestDatabase } from "../../../tests/support/databases.ts";
import type { UserId } from "../../domain/ports.ts";
import { accountsStore } from "./accounts.ts";

// The reads behind the directory search: the batch re-check of hits and the reindex pass.
for (const driver of DRIVERS) {
  describe(`accounts listing on ${driver}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await freshDatabase(driver);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    const id = (n: number) => `01900000-0000-7000-8000-${String(n).padStart(12, "0")}` as UserId;

    async function seed(count: number) {
      const accounts = accountsStore(t.database);
      for (let n = count; n >= 1; n--)
        await accounts.createPendingAccount({
          id: id(n),
          username: `user${n}`,
          isAdmin: false,
          now: n,
          claim: {
            id: `invite-${n}`,
            codeHash: `hash-${n}`,
            createdBy: "admin-cli",
            note: null,
            maxUses: 1,
            forUserId: id(n),
            admin: false,
            createdAt: n,
            expiresAt: n + 1000,
          },
        });
      return accounts;
    }

    test("findByIds returns the known ids and leaves the others out", async () => {
      const accounts = await seed(3);
      const found = await accounts.findByIds([id(3), id(1), id(99)]);
      expect(found.map((a) => a.username).sort()).toEqual(["user1", "user3"]);
      expect(await accounts.findByIds([])).toEqual([]);
    });

    test("listAfter pages over every account in id order, deleted ones included", async () => {
      const accounts = await seed(5);
      await accounts.deleteAccount(id(2), 100);
      const first = await accounts.listAfter(undefined, 2);
      const second = await accounts.listAfter(first[1]!.id, 2);
      const third = await accounts.listAfter(second[1]!.id, 2);
      expect([...first, ...second, ...third].map((a) => a.id)).toEqual([1, 2, 3, 4, 5].map(id));
      expect(first[1]).toMatchObject({ id: id(2), username: null, deletedAt: 100 });
      expect(await accounts.listAfter(id(5), 2)).toEqual([]);
    });
  });
}

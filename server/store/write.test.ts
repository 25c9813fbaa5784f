// Database.write on every driver: a write answers only once committed, concurrent writes are
// each all-or-nothing (on bun:sqlite they share commits, each in its own savepoint), and a
// failing write loses nothing of the others.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { DRIVERS, freshDatabase, type TestDatabase } from "../../tests/support/databases.ts";
import { serverSecrets } from "./schema.ts";

const row = (name: string) => ({ name, value: Buffer.from([1]), createdAt: 1 });

for (const driver of DRIVERS) {
  describe(`writes on ${driver}`, () => {
    let t: TestDatabase;
    beforeEach(async () => {
      t = await freshDatabase(driver);
    });
    afterEach(() => t.cleanup());

    const names = async () =>
      (await t.database.db.select({ name: serverSecrets.name }).from(serverSecrets))
        .map((r) => r.name)
        .sort();

    test("concurrent writes: the failing one rolls back alone, the others are committed", async () => {
      const results = await Promise.allSettled(
        Array.from({ length: 50 }, (_, i) =>
          t.database.write(async (tx) => {
            await tx.insert(serverSecrets).values(row(`w${i}`));
            // Write 25 fails after its insert: that insert must not survive.
            if (i === 25) throw new Error("refused");
            return i;
          }),
        ),
      );
      expect(results.filter((r) => r.status === "rejected")).toHaveLength(1);
      expect(results[25]).toMatchObject({ status: "rejected" });
      expect(results[24]).toEqual({ status: "fulfilled", value: 24 });
      const expected = Array.from({ length: 50 }, (_, i) => `w${i}`)
        .filter((n) => n !== "w25")
        .sort();
      expect(await names()).toEqual(expected);
    });

    test("a write answers only once it is committed: the read connection sees it", async () => {
      const seen = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          await t.database.write((tx) => tx.insert(serverSecrets).values(row(`c${i}`)));
          const [found] = await t.database.db
            .select()
            .from(serverSecrets)
            .where(eq(serverSecrets.name, `c${i}`));
          return found !== undefined;
        }),
      );
      expect(seen.every(Boolean)).toBe(true);
    });

    test("a constraint error inside one write is that write's error only", async () => {
      await t.database.write((tx) => tx.insert(serverSecrets).values(row("taken")));
      const [dup, ok] = await Promise.allSettled([
        t.database.write((tx) => tx.insert(serverSecrets).values(row("taken"))),
        t.database.write((tx) => tx.insert(serverSecrets).values(row("free"))),
      ]);
      expect(dup.status).toBe("rejected");
      expect(ok.status).toBe("fulfilled");
      expect(await names()).toEqual(["free", "taken"]);
    });
  });
}

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { freshDatabase, type TestDatabase } from "../../tests/support/databases.ts";
import { openBunSqlite } from "./bun-sqlite.ts";
import { auditRepository } from "./repos/audit.ts";
import { devicesRepository } from "./repos/devices.ts";
import { prekeysRepository } from "./repos/prekeys.ts";
import { usersRepository } from "./repos/users.ts";

const CHILD = join(import.meta.dir, "../../tests/support/store-child.ts");
let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

test("every acknowledged write survives kill -9 of the writing process", async () => {
  t = await freshDatabase("bun-sqlite");
  await t.database.close();
  const child = Bun.spawn([process.execPath, CHILD, "write", t.file], { stdout: "pipe" });
  let acked = 0;
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) acked = Number(line.slice(4));
    if (acked >= 300) {
      child.kill("SIGKILL");
      break;
    }
  }
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");
  const reopened = openBunSqlite(t.file);
  const rows = await auditRepository(reopened).list({ action: "durability", limit: 1000 });
  await reopened.close();
  const stored = new Set(rows.map((r) => Number(r.target)));
  for (let i = 1; i <= acked; i++) expect(stored.has(i)).toBe(true);
}, 30_000);

test("two server processes on one database never hand out the same prekey", async () => {
  t = await freshDatabase("bun-sqlite");
  const user = await usersRepository(t.database).create({ username: "alice", now: 1 });
  const device = await devicesRepository(t.database).create({
    userId: user.id,
    identityKey: new Uint8Array(32),
    certificate: new Uint8Array(64),
    platform: "web",
    createdAt: 1,
  });
  const total = 400;
  await prekeysRepository(t.database).addOneTime(
    device.id,
    Array.from({ length: total }, (_, i) => ({
      keyId: i + 1,
      publicKey: new Uint8Array(32).fill(i % 256),
      signature: new Uint8Array(64),
    })),
  );
  const children = [0, 1].map(() =>
    Bun.spawn([process.execPath, CHILD, "claim", t!.file, device.id], {
      stdin: "pipe",
      stdout: "pipe",
    }),
  );
  const readers = children.map((c) => c.stdout.getReader());
  const decoder = new TextDecoder();
  const readLine = async (reader: (typeof readers)[number], pending: string[]) => {
    while (!pending[0]?.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      pending[0] = (pending[0] ?? "") + decoder.decode(value);
    }
    const [line, ...rest] = (pending[0] ?? "").split("\n");
    pending[0] = rest.join("\n");
    return line!;
  };
  const pending = children.map(() => [""]);
  // Both processes are up before either starts claiming.
  for (let i = 0; i < 2; i++) expect(await readLine(readers[i]!, pending[i]!)).toBe("ready");
  for (const c of children) {
    c.stdin.write("go\n");
    c.stdin.end();
  }
  const claimed = await Promise.all(
    readers.map(async (r, i) => JSON.parse(await readLine(r, pending[i]!)) as number[]),
  );
  for (const c of children) expect(await c.exited).toBe(0);
  // Both processes really raced: each got some keys.
  expect(claimed[0]!.length).toBeGreaterThan(0);
  expect(claimed[1]!.length).toBeGreaterThan(0);
  const all = [...claimed[0]!, ...claimed[1]!];
  expect(all).toHaveLength(total);
  expect(new Set(all).size).toBe(total);
}, 30_000);

import { afterEach, expect, test } from "bun:test";
import { join } from "node:path";
import { freshDatabase, type TestDatabase } from "../../tests/support/databases.ts";
import {
  createAccountInput,
  oneTimePrekeys,
  testDeviceId,
  testUserId,
} from "../../tests/support/store-inputs.ts";
import { openBunSqlite } from "./bun-sqlite.ts";
import { accountsStore } from "./repos/accounts.ts";
import { devicesStore } from "./repos/devices-store.ts";
import { keysStore } from "./repos/keys-store.ts";

const CHILD = join(import.meta.dir, "../../tests/support/store-child.ts");
let t: TestDatabase | undefined;
afterEach(async () => {
  await t?.cleanup();
  t = undefined;
});

test("every acknowledged write survives kill -9 of the writing process", async () => {
  t = await freshDatabase("bun-sqlite");
  await t.database.close();
  // The child registers accounts, links a second device to each and tops up the first
  // device's one-time prekeys (AccountsStore, DevicesStore, KeysStore), acknowledging each.
  const child = Bun.spawn([process.execPath, CHILD, "write", t.file], { stdout: "pipe" });
  const acked: { account: number; write: string }[] = [];
  let buffered = "";
  const decoder = new TextDecoder();
  for await (const chunk of child.stdout) {
    buffered += decoder.decode(chunk);
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      const [, account, write] = line.split(" ");
      acked.push({ account: Number(account), write: write! });
    }
    if (acked.length >= 300) {
      child.kill("SIGKILL");
      break;
    }
  }
  await child.exited;
  expect(child.signalCode).toBe("SIGKILL");

  const reopened = openBunSqlite(t.file);
  const accounts = accountsStore(reopened);
  const devices = devicesStore(reopened);
  const keys = keysStore(reopened);
  for (const { account, write } of acked) {
    if (write === "account") {
      expect(await accounts.findById(testUserId(account))).toMatchObject({
        username: `user${account}`,
      });
    } else if (write === "link") {
      const linked = await devices.list(testUserId(account));
      expect(linked.map((d) => d.id)).toContain(testDeviceId(account, 2));
      expect((await devices.latestDeviceList(testUserId(account)))?.version).toBe(2);
    } else {
      expect(write).toBe("keys");
      expect((await keys.counts(testDeviceId(account))).oneTime).toBe(4);
    }
  }
  await reopened.close();
}, 30_000);

/**
 * Starts `args` in two child processes, lets both say "ready", starts them together with
 * "go", and returns the JSON each printed last.
 */
async function raceTwo(file: string, args: [string[], string[]]): Promise<unknown[]> {
  const children = args.map((a) =>
    Bun.spawn([process.execPath, CHILD, a[0]!, file, ...a.slice(1)], {
      stdin: "pipe",
      stdout: "pipe",
    }),
  );
  const readers = children.map((c) => c.stdout.getReader());
  const decoder = new TextDecoder();
  const pending = children.map(() => "");
  const readLine = async (i: number) => {
    while (!pending[i]!.includes("\n")) {
      const { value, done } = await readers[i]!.read();
      if (done) break;
      pending[i] += decoder.decode(value);
    }
    const [line, ...rest] = pending[i]!.split("\n");
    pending[i] = rest.join("\n");
    return line!;
  };
  // Both processes are up before either starts.
  for (let i = 0; i < 2; i++) expect(await readLine(i)).toBe("ready");
  for (const c of children) {
    c.stdin.write("go\n");
    c.stdin.end();
  }
  const results = await Promise.all([0, 1].map(async (i) => JSON.parse(await readLine(i))));
  for (const c of children) expect(await c.exited).toBe(0);
  return results;
}

test("two server processes on one database never hand out the same one-time prekey", async () => {
  t = await freshDatabase("bun-sqlite");
  const total = 400;
  const input = createAccountInput(1, { oneTime: oneTimePrekeys(total) });
  expect(await accountsStore(t.database).createAccount(input)).toBeUndefined();
  const claimArgs = ["claim", input.user.id, input.device.id];
  const claimed = (await raceTwo(t.file, [claimArgs, claimArgs])) as number[][];
  // Both processes really raced: each got some keys.
  expect(claimed[0]!.length).toBeGreaterThan(0);
  expect(claimed[1]!.length).toBeGreaterThan(0);
  // Every key published was handed out, and none twice.
  const all = [...claimed[0]!, ...claimed[1]!].sort((a, b) => a - b);
  expect(all).toEqual(input.keys.oneTimePrekeys.map((k) => k.keyId));
  expect((await keysStore(t.database).counts(input.device.id)).oneTime).toBe(0);
}, 30_000);

test("two server processes sending into one conversation get dense, unique sequences", async () => {
  t = await freshDatabase("bun-sqlite");
  const accounts = accountsStore(t.database);
  for (const n of [1, 2])
    expect(await accounts.createAccount(createAccountInput(n))).toBeUndefined();
  const count = 150;
  const seqs = (await raceTwo(t.file, [
    ["send", "1", "2", String(count), "a"],
    ["send", "2", "1", String(count), "b"],
  ])) as number[][];
  // Each process saw its own sequences increase, and together they are 1..2·count.
  for (const mine of seqs) expect(mine).toEqual([...mine].sort((a, b) => a - b));
  // They really interleaved (neither ran as one block before the other).
  const first = seqs[0]!;
  expect(first.at(-1)! - first[0]! + 1).toBeGreaterThan(count);
  const all = [...seqs[0]!, ...seqs[1]!].sort((a, b) => a - b);
  expect(all).toEqual(Array.from({ length: 2 * count }, (_, i) => i + 1));
}, 30_000);

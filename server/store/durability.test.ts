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

test("two server processes on one database never hand out the same one-time prekey", async () => {
  t = await freshDatabase("bun-sqlite");
  const total = 400;
  const input = createAccountInput(1, { oneTime: oneTimePrekeys(total) });
  expect(await accountsStore(t.database).createAccount(input)).toBeUndefined();
  const children = [0, 1].map(() =>
    Bun.spawn([process.execPath, CHILD, "claim", t!.file, input.user.id, input.device.id], {
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
  // Every key published was handed out, and none twice.
  const all = [...claimed[0]!, ...claimed[1]!].sort((a, b) => a - b);
  expect(all).toEqual(input.keys.oneTimePrekeys.map((k) => k.keyId));
  expect((await keysStore(t.database).counts(input.device.id)).oneTime).toBe(0);
}, 30_000);

// A second process on the same database file, for the durability and concurrency tests.
//   store-child.ts write <db>        append audit rows forever, printing "ack N" after each commit
//   store-child.ts claim <db> <dev>  after "go" on stdin, claim one-time prekeys until none is
//                                    left, then print the claimed ids as JSON
import type { DeviceId } from "../../server/domain/ports.ts";
import { openBunSqlite } from "../../server/store/bun-sqlite.ts";
import { auditRepository } from "../../server/store/repos/audit.ts";
import { prekeysRepository } from "../../server/store/repos/prekeys.ts";

const [mode, file, device] = process.argv.slice(2);
const db = openBunSqlite(file!);

if (mode === "write") {
  const audit = auditRepository(db);
  for (let i = 1; ; i++) {
    await audit.append({
      at: i,
      actor: "test",
      action: "durability",
      target: String(i),
      details: null,
    });
    process.stdout.write(`ack ${i}\n`);
  }
} else if (mode === "claim") {
  const prekeys = prekeysRepository(db);
  const ids: number[] = [];
  // Start together: say ready, then wait for the parent's go on stdin.
  process.stdout.write("ready\n");
  for await (const _ of console) break;
  for (;;) {
    const key = await prekeys.claimOneTime(device as DeviceId);
    if (!key) break;
    ids.push(key.keyId);
    // Space claims out like requests do; a tight loop would starve SQLite's busy waiter.
    await Bun.sleep(1);
  }
  process.stdout.write(`${JSON.stringify(ids)}\n`);
  await db.close();
}

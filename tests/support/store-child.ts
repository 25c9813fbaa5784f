// A second process on the same database file, for server/store/durability.test.ts.
//   store-child.ts write <db>              register accounts, link a second device to each and
//                                          top up its prekeys, through the real stores, forever;
//                                          after each commit print "ack <account> <write>"
//   store-child.ts claim <db> <user> <dev> after "go" on stdin, claim the device's bundle until
//                                          it comes without a one-time prekey, then print the
//                                          one-time prekey ids received as JSON
//   store-child.ts send <db> <from> <to> <count> <tag>
//                                          after "go" on stdin, append <count> messages from
//                                          account <from> to <to> in their direct conversation,
//                                          then print the sequences received as JSON
import {
  MAX_STORED_ONE_TIME_PREKEYS,
  MAX_STORED_PQ_ONE_TIME_PREKEYS,
} from "../../protocol/api/prekeys.ts";
import type { ConversationId, DeviceId, UserId } from "../../server/domain/ports.ts";
import { openBunSqlite } from "../../server/store/bun-sqlite.ts";
import { accountsStore } from "../../server/store/repos/accounts.ts";
import { devicesStore } from "../../server/store/repos/devices-store.ts";
import { keysStore } from "../../server/store/repos/keys-store.ts";
import { messagesStore } from "../../server/store/repos/messages-store.ts";
import {
  createAccountInput,
  deviceList,
  deviceRecord,
  firstPrekeys,
  oneTimePrekeys,
  prekeyIdOf,
  testDeviceId,
  testUserId,
} from "./store-inputs.ts";

/** The conversation the `send` mode writes to (a direct id's shape: version 8). */
const DIRECT_CONVERSATION = "01900000-0000-8000-8000-00000000d1d1" as ConversationId;

const [mode, file, user, device] = process.argv.slice(2);
const db = openBunSqlite(file!);

/** Stops the child with a non-zero status (the test then sees no SIGKILL) on a refusal. */
function committed(write: string, refused: unknown) {
  if (refused !== undefined) throw new Error(`${write} refused: ${JSON.stringify(refused)}`);
}

if (mode === "write") {
  const accounts = accountsStore(db);
  const devices = devicesStore(db);
  const keys = keysStore(db);
  const caps = { oneTime: MAX_STORED_ONE_TIME_PREKEYS, pqOneTime: MAX_STORED_PQ_ONE_TIME_PREKEYS };
  for (let n = 1; ; n++) {
    const now = 1000 + n;
    committed("account", await accounts.createAccount(createAccountInput(n, { now })));
    process.stdout.write(`ack ${n} account\n`);
    const linked = await devices.link({
      device: deviceRecord(n, 2),
      deviceList: deviceList(2),
      previousHash: deviceList(1).hash,
      keys: firstPrekeys(oneTimePrekeys(2)),
      maxDevices: 5,
      now,
    });
    committed("link", linked);
    process.stdout.write(`ack ${n} link\n`);
    const keysRefused = await keys.upload(
      testDeviceId(n),
      { oneTimePrekeys: oneTimePrekeys(2, 3), pqOneTimePrekeys: [] },
      now,
      caps,
    );
    committed("keys", keysRefused);
    process.stdout.write(`ack ${n} keys\n`);
  }
} else if (mode === "send") {
  const [, , , , count, tag] = process.argv.slice(2);
  const from = Number(user);
  const to = Number(device);
  const messages = messagesStore(db);
  const seqs: number[] = [];
  process.stdout.write("ready\n");
  for await (const _ of console) break;
  for (let i = 0; i < Number(count); i++) {
    const sent = await messages.append({
      id: `01900000-0000-7000-b${tag}${String(from).padStart(2, "0")}-${i.toString(16).padStart(12, "0")}`,
      conversationId: DIRECT_CONVERSATION,
      senderUserId: testUserId(from),
      senderDeviceId: testDeviceId(from),
      ciphertext: new Uint8Array([from, i & 0xff]),
      expiresAt: null,
      keyHeaders: [],
      directPeer: testUserId(to),
      now: 2000 + i,
    });
    if (typeof sent === "string") throw new Error(`send refused: ${sent}`);
    seqs.push(sent.message.seq);
    await Bun.sleep(1);
  }
  process.stdout.write(`${JSON.stringify(seqs)}\n`);
  await db.close();
} else if (mode === "claim") {
  const keys = keysStore(db);
  const ids: number[] = [];
  // Start together: say ready, then wait for the parent's go on stdin.
  process.stdout.write("ready\n");
  for await (const _ of console) break;
  for (;;) {
    const [bundle] = await keys.claimBundles(user as UserId, device as DeviceId);
    if (!bundle?.oneTimePrekey) break;
    ids.push(prekeyIdOf(bundle.oneTimePrekey));
    // Space claims out like requests do; a tight loop would starve SQLite's busy waiter.
    await Bun.sleep(1);
  }
  process.stdout.write(`${JSON.stringify(ids)}\n`);
  await db.close();
}

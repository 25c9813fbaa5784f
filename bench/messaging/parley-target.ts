// Parley's own server as a Target: `parley serve` from source in its own process (pinned with
// taskset), a fresh data directory, limits lifted for the load. Accounts, devices and groups
// are written straight into the database by this process (bench-only: signing up 15,000
// devices through the API would measure sign-up, not delivery); each device signs in with
// its secret over HTTP and opens its socket with a ticket, as a client does. Messages are
// sender-key messages in the real wire format around the generator's payload (with a zero
// signature: the server reads the clear header, never the signature).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBase64Url, toBase64Url } from "../../protocol/api/base64.ts";
import { concatBytes } from "../../protocol/crypto/bytes.ts";
import { encodeSenderKeyMessageUnsigned } from "../../protocol/groups/sender-key-wire.ts";
import type { ConversationId, DeviceId, UserId } from "../../protocol/identity/ids.ts";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import { sha256Hex } from "../../server/domain/accounts/secrets.ts";
import { openBunSqlite } from "../../server/store/bun-sqlite.ts";
import { accountsStore } from "../../server/store/repos/accounts.ts";
import { conversationsStore } from "../../server/store/repos/conversations-store.ts";
import { createAccountInput, testDeviceId, testUserId } from "../../tests/support/store-inputs.ts";
import { openSocket } from "./ceiling-target.ts";
import type { Address, ConnectOptions, Incoming, Plan, RunningServer, Target } from "./target.ts";

const MAIN = join(import.meta.dir, "..", "..", "cli", "main.ts");
const LIFTED = "1000000";
const SIGNATURE = new Uint8Array(64);
/** The generator's message number inside a canonical UUID, and back. */
const idOf = (n: number) => `01900000-0000-7000-8000-${n.toString(16).padStart(12, "0")}`;
const nOf = (id: string) => Number.parseInt(id.slice(24), 16);

interface Device {
  userId: UserId;
  deviceId: DeviceId;
  secret: string;
}

export function parleyTarget(): Target {
  let url = "";
  let dataDir = "";
  const devices = new Map<string, Device>();
  /** Group name → its address: conversation, sender user and device (no peer). */
  const groups = new Map<string, Address>();
  const payloadBytes = new Map<string, Uint8Array>();

  /** The bench's device `name` as an account with one device (made on first mention). */
  const deviceOf = (name: string) => {
    let d = devices.get(name);
    if (!d) {
      const n = devices.size + 1;
      d = {
        userId: testUserId(n),
        deviceId: testDeviceId(n),
        secret: toBase64Url(new Uint8Array(32).fill(n & 0xff)),
      };
      devices.set(name, d);
    }
    return d;
  };

  return {
    name: "Parley",
    async start(cpus) {
      dataDir = mkdtempSync(join(tmpdir(), "parley-bench-server-"));
      const proc = Bun.spawn(
        [
          "taskset",
          "-c",
          cpus,
          process.execPath,
          // PARLEY_BENCH_PROFILE=dir writes the server's CPU profile (markdown) there on exit.
          ...(process.env.PARLEY_BENCH_PROFILE
            ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.PARLEY_BENCH_PROFILE}`]
            : []),
          MAIN,
          "serve",
          "--host",
          "127.0.0.1",
          "--port",
          "0",
        ],
        {
          cwd: dataDir,
          env: {
            PATH: process.env.PATH ?? "",
            PARLEY_DATA_DIR: join(dataDir, "data"),
            PARLEY_LOG_LEVEL: "info",
            PARLEY_LIMITS_MESSAGES_PER_MINUTE: LIFTED,
            PARLEY_LIMITS_PROTOCOL_PER_MINUTE: LIFTED,
            PARLEY_LIMITS_REQUESTS_PER_MINUTE: LIFTED,
            PARLEY_LIMITS_SIGN_INS_PER_MINUTE: LIFTED,
            PARLEY_LIMITS_REFRESHES_PER_MINUTE: LIFTED,
          },
          stdout: "ignore",
          stderr: "pipe",
        },
      );
      url = await listeningUrl(proc.stderr);
      return {
        url,
        pid: proc.pid,
        async stop() {
          proc.kill("SIGTERM");
          await proc.exited;
          rmSync(dataDir, { recursive: true, force: true });
        },
      } satisfies RunningServer;
    },

    async prepare(plan: Plan) {
      const names = new Set([
        ...plan.direct.flat(),
        ...plan.devices,
        ...Object.values(plan.groups).flatMap((g) => [g.sender, ...g.members]),
      ]);
      const db = openBunSqlite(join(dataDir, "data", "parley.db"));
      try {
        const accounts = accountsStore(db);
        // Concurrent writes share commits (group commit): thousands of accounts in seconds.
        await Promise.all(
          [...names].map(async (name) => {
            const d = deviceOf(name);
            const n = Number.parseInt(d.userId.slice(24), 16);
            const input = createAccountInput(n, { username: `bench${n}` });
            input.device.secretHash = await sha256Hex(fromBase64Url(d.secret, "secret"));
            const refused = await accounts.createAccount(input);
            if (refused) throw new Error(`account ${name}: ${refused}`);
          }),
        );
        const conversations = conversationsStore(db);
        for (const [name, g] of Object.entries(plan.groups)) {
          const id =
            `01900000-0000-7000-c000-${(groups.size + 1).toString(16).padStart(12, "0")}` as ConversationId;
          const members = new Map([[deviceOf(g.sender).userId, "owner" as const]]);
          for (const m of g.members) members.set(deviceOf(m).userId, "member" as never);
          const refused = await conversations.createGroup({
            conversationId: id,
            epoch: 0,
            entry: new Uint8Array(8),
            hash: "00".repeat(32),
            previousHash: "00".repeat(32),
            actor: deviceOf(g.sender).userId,
            after: { members, announcementsOnly: false },
            now: Date.now(),
          });
          if (refused) throw new Error(`group ${name}: ${refused}`);
          const sender = deviceOf(g.sender);
          groups.set(name, [id, sender.userId, sender.deviceId, ""].join("|"));
        }
      } finally {
        await db.close();
      }
    },

    async connect(name: string, onFrame: (frame: string) => void, options?: ConnectOptions) {
      const d = deviceOf(name);
      const signIn = await post("/auth/token", undefined, {
        grant: "device",
        deviceId: d.deviceId,
        secret: d.secret,
      });
      const token = signIn.accessToken as string;
      if (options?.catchUp) {
        // Parley's catch-up is GET /sync in pages; each page goes to onFrame as one frame.
        let cursor = "";
        for (;;) {
          const res = await fetch(`${url}/api/v1/sync?cursor=${cursor}`, {
            headers: { authorization: `Bearer ${token}` },
          });
          const text = await res.text();
          onFrame(text);
          const page = JSON.parse(text) as { cursor: string; more: boolean };
          cursor = page.cursor;
          if (!page.more) break;
        }
        onFrame('{"type":"synced"}');
      }
      const { ticket } = await post("/ws/tickets", token, {});
      return openSocket(`${url.replace("http", "ws")}/api/v1/ws?ticket=${ticket}`, onFrame);
    },

    direct(from: string, to: string): Address {
      const a = deviceOf(from);
      const b = deviceOf(to);
      return [directConversationId(a.userId, b.userId), a.userId, a.deviceId, b.userId].join("|");
    },
    group(name: string): Address {
      const address = groups.get(name);
      if (!address) throw new Error(`no group ${name}`);
      return address;
    },

    encodeSend(n: number, to: Address, payload: string): string {
      const [conversationId, senderUserId, senderDeviceId, peerUserId] = to.split("|");
      let body = payloadBytes.get(payload);
      if (!body) {
        body = Uint8Array.from(Buffer.from(payload, "base64"));
        payloadBytes.set(payload, body);
      }
      const id = idOf(n);
      const unsigned = encodeSenderKeyMessageUnsigned(
        {
          conversationId: conversationId as ConversationId,
          senderUserId: senderUserId as UserId,
          senderDeviceId: senderDeviceId as DeviceId,
          keyVersion: 1,
          counter: n,
          clientMessageId: id,
          membershipEpoch: 0,
        },
        body,
      );
      const ciphertext = toBase64Url(concatBytes(unsigned, SIGNATURE));
      return JSON.stringify({
        type: "send",
        id,
        conversationId,
        ciphertext,
        ...(peerUserId ? { peerUserId } : {}),
      });
    },

    decode(frame: string): Incoming {
      const f = JSON.parse(frame) as {
        type?: string;
        id?: string;
        message?: { id: string };
        messages?: { id: string }[];
      };
      if (f.type === "sent") return { kind: "ack", n: nOf(f.id!) };
      if (f.type === "new_message") return { kind: "deliver", ns: [nOf(f.message!.id)] };
      if (f.messages) return { kind: "deliver", ns: f.messages.map((m) => nOf(m.id)) };
      if (f.type === "synced") return { kind: "synced" };
      return { kind: "other" };
    },
  };

  async function post(path: string, token: string | undefined, body: unknown) {
    const res = await fetch(`${url}/api/v1${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as Record<string, unknown>;
  }
}

/** The URL from the server's "listening" log line (JSON lines on stderr off a terminal). */
async function listeningUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const match = text.match(/"msg":"listening","url":"([^"]+)"/);
    if (match) {
      // Keep draining so the server never blocks on a full pipe.
      void (async () => {
        for (;;) if ((await reader.read()).done) break;
      })();
      return match[1]!.replace(/\/$/, "");
    }
    const { value, done } = await reader.read();
    if (done) throw new Error(`parley serve did not start:\n${text}`);
    text += decoder.decode(value);
  }
}

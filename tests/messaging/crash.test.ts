// kill -9 of a real `parley serve` while a client sends: after a restart on the same data
// directory, every message whose send was acknowledged is there exactly once, and retrying
// every send (acknowledged or not) creates no duplicate.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { toBase64Url } from "../../protocol/api/base64.ts";
import { createSenderKey, encryptWithSenderKey } from "../../protocol/groups/sender-key.ts";
import type { ConversationId } from "../../protocol/identity/ids.ts";
import { encodeMessageContent } from "../../protocol/messages/content.ts";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import { register } from "../../sdk/account.ts";
import { uuidV7 } from "../../sdk/ids.ts";
import { apiClient, FEW_PREKEYS, realContext } from "../support/client.ts";
import { tempDir } from "../support/databases.ts";
import { spawnServer } from "../support/process.ts";

const MAIN = join(import.meta.dir, "..", "..", "cli", "main.ts");
const dir = tempDir("parley-crash-");
afterAll(() => dir.remove());

const env = {
  PARLEY_REGISTRATION_MODE: "open",
  PARLEY_LIMITS_MESSAGES_PER_MINUTE: "100000",
  PARLEY_LIMITS_PROTOCOL_PER_MINUTE: "100000",
  PARLEY_LIMITS_REGISTRATIONS_PER_HOUR: "100000",
};
const serve = () =>
  spawnServer([process.execPath, MAIN, "serve", "--port", "0", "--host", "127.0.0.1"], {
    cwd: dir.path,
    env,
  });

test("every acknowledged send survives kill -9, and retries store nothing twice", async () => {
  const ctx = await realContext();
  let server = await serve();
  const users = [];
  for (const name of ["alice", "bob"]) {
    const api = apiClient(server.url);
    const { state } = await register(ctx, api, {
      username: name,
      proof: { kind: "open" },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    users.push({ state, token: api.auth.tokens!.accessToken });
  }
  const [alice, bob] = users as [(typeof users)[0], (typeof users)[0]];
  const conversationId = directConversationId(alice.state.userId, bob.state.userId);

  // The client's outbox: every message built (and encrypted) once, resent as the same bytes.
  const own = await createSenderKey(ctx, {
    conversationId: conversationId as ConversationId,
    senderUserId: alice.state.userId,
    senderDeviceId: alice.state.deviceId,
    previousVersion: 0,
    membershipEpoch: 0,
    membershipLogHash: new Uint8Array(32),
    deviceListVersion: 1,
  });
  const total = 300;
  const outbox: { id: string; conversationId: string; ciphertext: string; peerUserId: string }[] =
    [];
  for (let i = 0; i < total; i++) {
    const id = uuidV7(ctx.rng, ctx.now);
    const content = encodeMessageContent({ type: "text", body: `m${i}`, sentAt: ctx.now() });
    outbox.push({
      id,
      conversationId,
      ciphertext: toBase64Url(await encryptWithSenderKey(ctx, own, id, content)),
      peerUserId: bob.state.userId,
    });
  }
  const send = async (url: string, m: (typeof outbox)[number]) => {
    const res = await fetch(`${url}/api/v1/messages`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${alice.token}`,
        "content-type": "application/json",
        "idempotency-key": m.id,
      },
      body: JSON.stringify(m),
    });
    return { status: res.status, body: (await res.json()) as { seq: number; duplicate: boolean } };
  };

  // Send 8 at a time; kill -9 the server once 100 are acknowledged, sends still in flight.
  const acked = new Map<string, number>();
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (next < total && !killed) {
      const m = outbox[next++]!;
      try {
        const r = await send(server.url, m);
        if (r.status === 201 || r.status === 200) acked.set(m.id, r.body.seq);
      } catch {
        // The server died under this request: not acknowledged.
      }
      if (acked.size >= 100 && !killed) {
        killed = true;
        server.proc.kill("SIGKILL");
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  await server.proc.exited;
  expect(server.proc.signalCode).toBe("SIGKILL");
  expect(acked.size).toBeGreaterThanOrEqual(100);

  // Restart on the same data directory; the client retries everything.
  server = await serve();
  try {
    for (const m of outbox) {
      const r = await send(server.url, m);
      expect([200, 201]).toContain(r.status);
      if (acked.has(m.id)) {
        // Acknowledged before the crash: still there, same sequence, nothing new stored.
        expect(r.body).toMatchObject({ duplicate: true, seq: acked.get(m.id) });
      }
    }
    // Each message is stored once, sequences dense from 1.
    const seen: { id: string; seq: number }[] = [];
    let before: number | undefined;
    for (;;) {
      const page = await fetch(
        `${server.url}/api/v1/conversations/${conversationId}/messages?limit=200${before ? `&before=${before}` : ""}`,
        { headers: { authorization: `Bearer ${bob.token}` } },
      );
      const { messages } = (await page.json()) as { messages: { id: string; seq: number }[] };
      if (messages.length === 0) break;
      seen.push(...messages);
      before = messages.at(-1)!.seq;
    }
    expect(seen.length).toBe(total);
    expect(new Set(seen.map((m) => m.id)).size).toBe(total);
    expect(seen.map((m) => m.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );
  } finally {
    server.proc.kill("SIGTERM");
    await server.proc.exited;
  }
}, 60_000);

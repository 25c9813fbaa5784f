// The messaging ceiling: the least a durable relay must do, on bare Bun.serve and bun:sqlite,
// with nothing of Parley in it. A device connects to /ws?device=ID (the id stands in for an
// authenticated principal); for each frame {id, to, payload} it stores the message (WAL,
// synchronous=FULL), assigns the conversation's next sequence, acks {ack: id, seq} once the
// transaction is on disk, and forwards the message to the recipient if it is connected.
//   bun bench/messaging/ceiling-relay.ts DB_PATH [--writer-thread]
// Prints its ws:// URL on the first line of stdout; SIGTERM stops it.
//
// Group commit: one transaction is in flight at a time; every frame that arrives meanwhile
// joins the next one, so one fsync covers them all. By default the event loop commits itself
// (ceiling-store.ts's writer, called inline): while it waits out an fsync, new frames wait in
// the socket buffers and are read, together, as soon as it returns. With --writer-thread the
// writer runs in a Worker and the event loop never waits on the disk; on one core that
// measured slower (the hand-off costs more than the overlap gains: docs/BENCHMARKS.md), so it
// stays only for comparison.
//
// Messages are stored once per conversation, keyed by (conversation, sequence), as Parley's
// design has it; a device's conversations are kept in a membership table. A device that
// connects with ?sync=1 first receives every stored message of its conversations, in pages
// {sync: [...], conv} per conversation, then {synced: true} (no positions are kept: it asks
// from the start). `to` is a device id, or "g:NAME" for a group whose members joined it with
// ?groups=NAME at connect (fan-out through Bun's pub/sub topics).
//
// What it does not do, and Parley must: verify a ticket, check membership before storing,
// deduplicate client ids, keep delivery positions and receipts, send push.
import { Database } from "bun:sqlite";
import type { ServerWebSocket } from "bun";
import { openStore, openWriter, type StoreBatch, type StoreReply } from "./ceiling-store.ts";

/** Rows per catch-up page, and so per frame. */
const PAGE_ROWS = 500;

interface Device {
  device: string;
  groups: string[];
  /** Catch-up still to send: conversations left and the sequence reached in the first. */
  sync: { convs: string[]; seq: number } | undefined;
}
interface Pending {
  ws: ServerWebSocket<Device>;
  id: string;
  to: string;
  conv: string;
  payload: string;
}

const [path, mode] = process.argv.slice(2);
if (!path) throw new Error("usage: bun bench/messaging/ceiling-relay.ts DB_PATH [--writer-thread]");
openStore(path).close(); // the schema exists before the reader prepares its statements
const writer =
  mode === "--writer-thread"
    ? new Worker(new URL("./ceiling-store.ts", import.meta.url).href)
    : inlineWriter(path);
await new Promise<void>((resolve) => {
  writer.onmessage = () => resolve();
  writer.postMessage({ path });
});
const reader = new Database(path, { readonly: true });
const conversationsOf = reader.prepare("SELECT conv FROM members WHERE device = ?");
const page = reader.prepare(
  "SELECT seq, id, sender, payload FROM messages WHERE conv = ? AND seq > ? ORDER BY seq LIMIT ?",
);

/** The writer in this thread, behind the Worker's interface. */
function inlineWriter(path: string) {
  const write = openWriter(path);
  const w = {
    onmessage: (_e: MessageEvent<StoreReply>) => {},
    postMessage(request: StoreBatch | { path: string }) {
      const reply: StoreReply = "path" in request ? { ready: true } : write(request);
      w.onmessage({ data: reply } as MessageEvent<StoreReply>);
    },
    terminate() {},
  };
  return w;
}

const online = new Map<string, ServerWebSocket<Device>>();
let pending: Pending[] = [];
let joins: [string, string][] = [];
let inFlight: Pending[] | undefined;
let flushScheduled = false;

const conversationOf = (from: string, to: string) =>
  to.startsWith("g:") ? to : from < to ? `d:${from}:${to}` : `d:${to}:${from}`;

function scheduleFlush() {
  if (flushScheduled || inFlight) return;
  flushScheduled = true;
  setImmediate(flush);
}

/** Hands everything pending to the writer as one transaction, unless one is in flight. */
function flush() {
  flushScheduled = false;
  if (inFlight || (pending.length === 0 && joins.length === 0)) return;
  const batch = pending;
  const batchJoins = joins;
  pending = [];
  joins = [];
  inFlight = batch;
  writer.postMessage({
    convs: batch.map((m) => m.conv),
    ids: batch.map((m) => m.id),
    senders: batch.map((m) => m.ws.data.device),
    recipients: batch.map((m) => m.to),
    payloads: batch.map((m) => m.payload),
    joins: batchJoins,
  } satisfies StoreBatch);
}

writer.onmessage = (e: MessageEvent<StoreReply>) => {
  const batch = inFlight!;
  inFlight = undefined;
  if ("seqs" in e.data) acknowledge(batch, e.data.seqs);
  else if ("error" in e.data) console.error("commit failed; its senders get no ack", e.data.error);
  if (pending.length > 0 || joins.length > 0) flush();
};

/** After the commit: acks to the senders, copies to the recipients that are online. */
function acknowledge(batch: Pending[], seqs: Int32Array) {
  // Each socket's frames go out corked, in one write: this runs outside a socket callback,
  // which Bun does not cork, and one write per frame would cost a syscall per ack and copy.
  const outbox = new Map<ServerWebSocket<Device>, string[]>();
  const post = (ws: ServerWebSocket<Device>, frame: string) => {
    const frames = outbox.get(ws);
    if (frames) frames.push(frame);
    else outbox.set(ws, [frame]);
  };
  for (let i = 0; i < batch.length; i++) {
    const m = batch[i]!;
    post(m.ws, `{"ack":${JSON.stringify(m.id)},"seq":${seqs[i]}}`);
    const frame = JSON.stringify({
      from: m.ws.data.device,
      conv: m.conv,
      seq: seqs[i],
      id: m.id,
      payload: m.payload,
    });
    if (m.to.startsWith("g:")) server.publish(m.to, frame);
    else {
      const recipient = online.get(m.to);
      if (recipient) post(recipient, frame);
    }
  }
  for (const [ws, frames] of outbox)
    ws.cork(() => {
      for (const frame of frames) ws.send(frame);
    });
}

/** Sends catch-up pages until the device is caught up or its socket pushes back. */
function sendCatchUp(ws: ServerWebSocket<Device>) {
  const sync = ws.data.sync;
  if (!sync) return;
  while (sync.convs.length > 0) {
    const conv = sync.convs[0]!;
    const rows = page.all(conv, sync.seq, PAGE_ROWS) as { seq: number }[];
    if (rows.length === 0) {
      sync.convs.shift();
      sync.seq = 0;
      continue;
    }
    sync.seq = rows[rows.length - 1]!.seq;
    // -1: queued over the backpressure limit; go on when the socket drains.
    if (ws.send(JSON.stringify({ sync: rows, conv })) === -1) return;
  }
  ws.send(`{"synced":true}`);
  ws.data.sync = undefined;
}

const server = Bun.serve<Device>({
  hostname: "127.0.0.1",
  port: 0,
  fetch(req, srv) {
    const url = new URL(req.url);
    const device = url.searchParams.get("device");
    if (url.pathname !== "/ws" || !device) return new Response("device required", { status: 401 });
    const groups = url.searchParams.get("groups")?.split(",") ?? [];
    const sync =
      url.searchParams.get("sync") === "1"
        ? {
            convs: (conversationsOf.all(device) as { conv: string }[]).map((r) => r.conv),
            seq: 0,
          }
        : undefined;
    const data: Device = { device, groups, sync };
    return srv.upgrade(req, { data }) ? undefined : new Response("upgrade failed", { status: 400 });
  },
  websocket: {
    idleTimeout: 0, // the idle-connection measurement keeps sockets silent for a while
    open(ws) {
      online.set(ws.data.device, ws);
      for (const g of ws.data.groups) {
        joins.push([ws.data.device, `g:${g}`]);
        ws.subscribe(`g:${g}`);
      }
      if (joins.length > 0) scheduleFlush();
      sendCatchUp(ws);
    },
    drain: sendCatchUp,
    message(ws, raw) {
      const frame = JSON.parse(raw as string) as { id: string; to: string; payload: string };
      const conv = conversationOf(ws.data.device, frame.to);
      pending.push({ ws, id: frame.id, to: frame.to, conv, payload: frame.payload });
      scheduleFlush();
    },
    close(ws) {
      if (online.get(ws.data.device) === ws) online.delete(ws.data.device);
    },
  },
});

console.log(`ws://127.0.0.1:${server.port}/ws`);
process.on("SIGTERM", () => {
  server.stop(true);
  writer.terminate();
  reader.close();
  process.exit(0);
});

// The ceiling relay's writer: the database's one write connection. Called inline by the
// relay's event loop, or run as a Worker (the relay's --writer-thread variant, for
// comparison) so the event loop goes on reading frames while a commit waits on fsync. Each request is one batch, written in one
// transaction; the reply carries the sequences it assigned.
import { Database } from "bun:sqlite";

declare const self: Worker;

/** A batch of messages (parallel arrays) and of memberships to record, in one transaction. */
export interface StoreBatch {
  convs: string[];
  ids: string[];
  senders: string[];
  payloads: string[];
  /** Direct conversations: [from, to] per message, so both devices become members. */
  recipients: string[];
  joins: [device: string, conv: string][];
}
/** The first request: where the database is. */
export interface StoreOpen {
  path: string;
}
export type StoreReply = { ready: true } | { seqs: Int32Array } | { error: string };

/** Creates the schema; shared with the relay's read connection, which opens after it. */
export function openStore(path: string): Database {
  const db = new Database(path, { create: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = FULL");
  db.run(`CREATE TABLE IF NOT EXISTS messages (
    cursor INTEGER PRIMARY KEY, conv TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,
    sender TEXT NOT NULL, payload TEXT NOT NULL, UNIQUE (conv, seq))`);
  db.run(`CREATE TABLE IF NOT EXISTS members (
    device TEXT NOT NULL, conv TEXT NOT NULL, PRIMARY KEY (device, conv)) WITHOUT ROWID`);
  return db;
}

/** Opens the write connection; the function it returns writes one batch per call. */
export function openWriter(path: string): (batch: StoreBatch) => StoreReply {
  const db = openStore(path);
  const insert = db.prepare(
    "INSERT INTO messages (conv, seq, id, sender, payload) VALUES (?, ?, ?, ?, ?)",
  );
  const join = db.prepare("INSERT OR IGNORE INTO members (device, conv) VALUES (?, ?)");
  const lastSeq = db.prepare("SELECT max(seq) AS seq FROM messages WHERE conv = ?");
  /** Conversation → last assigned sequence (read from the table on first use). */
  const sequences = new Map<string, number>();

  const write = db.transaction((b: StoreBatch, seqs: Int32Array) => {
    for (const [device, conv] of b.joins) join.run(device, conv);
    for (let i = 0; i < b.convs.length; i++) {
      const conv = b.convs[i]!;
      let seq = sequences.get(conv);
      if (seq === undefined) {
        seq = (lastSeq.get(conv) as { seq: number | null }).seq ?? 0;
        if (!conv.startsWith("g:")) {
          join.run(b.senders[i]!, conv);
          join.run(b.recipients[i]!, conv);
        }
      }
      seqs[i] = ++seq;
      sequences.set(conv, seq);
      insert.run(conv, seq, b.ids[i]!, b.senders[i]!, b.payloads[i]!);
    }
  });

  return (batch: StoreBatch): StoreReply => {
    const seqs = new Int32Array(batch.convs.length);
    try {
      write(batch, seqs);
      return { seqs };
    } catch (err) {
      // Rolled back: forget every cached sequence; they are read again from the table.
      sequences.clear();
      return { error: String(err) };
    }
  };
}

if (!Bun.isMainThread) {
  let handle: ((batch: StoreBatch) => StoreReply) | undefined;
  self.onmessage = (e: MessageEvent<StoreOpen | StoreBatch>) => {
    if ("path" in e.data) {
      handle = openWriter(e.data.path);
      self.postMessage({ ready: true } satisfies StoreReply);
      return;
    }
    const reply = handle!(e.data);
    if ("seqs" in reply) self.postMessage(reply, [reply.seqs.buffer as ArrayBuffer]);
    else self.postMessage(reply);
  };
}

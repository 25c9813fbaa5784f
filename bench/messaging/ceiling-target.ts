// The ceiling relay (ceiling-relay.ts) as a Target: its own process, pinned with taskset,
// storing into a fresh database under the system temp directory.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Address, ConnectOptions, Incoming, Plan, RunningServer, Target } from "./target.ts";

const RELAY = join(import.meta.dir, "ceiling-relay.ts");

/** `writerThread`: the relay commits in a Worker instead of on its event loop. */
export function ceilingTarget(writerThread = false): Target {
  let url = "";
  const groupsOf = new Map<string, string[]>();
  return {
    name: writerThread ? "bare Bun relay, writer thread" : "bare Bun relay (ceiling)",
    async start(cpus) {
      const dir = mkdtempSync(join(tmpdir(), "parley-bench-relay-"));
      // taskset execs the server, so the spawned pid is the server's own.
      const command = ["taskset", "-c", cpus, process.execPath, RELAY, join(dir, "m.db")];
      const proc = Bun.spawn(writerThread ? [...command, "--writer-thread"] : command, {
        stdout: "pipe",
        stderr: "inherit",
      });
      url = await firstLine(proc.stdout, "ceiling relay");
      return {
        url,
        pid: proc.pid,
        async stop() {
          proc.kill("SIGTERM");
          await proc.exited;
          rmSync(dir, { recursive: true, force: true });
        },
      } satisfies RunningServer;
    },
    async prepare(plan: Plan) {
      // Nothing to register: a device id is its credential. Members join groups at connect.
      groupsOf.clear();
      for (const [name, g] of Object.entries(plan.groups))
        for (const m of g.members) groupsOf.set(m, [...(groupsOf.get(m) ?? []), name]);
    },
    connect(device: string, onFrame: (frame: string) => void, options?: ConnectOptions) {
      const q = new URLSearchParams({ device });
      const groups = groupsOf.get(device);
      if (groups) q.set("groups", groups.join(","));
      if (options?.catchUp) q.set("sync", "1");
      return openSocket(`${url}?${q}`, onFrame);
    },
    direct: (_from: string, to: string): Address => to,
    group: (name: string): Address => `g:${name}`,
    encodeSend: (n, to, payload) => `{"id":"${n}","to":"${to}","payload":"${payload}"}`,
    decode(frame: string): Incoming {
      const f = JSON.parse(frame);
      if (f.ack !== undefined) return { kind: "ack", n: Number(f.ack) };
      if (f.id !== undefined) return { kind: "deliver", ns: [Number(f.id)] };
      if (f.sync !== undefined)
        return { kind: "deliver", ns: (f.sync as { id: string }[]).map((r) => Number(r.id)) };
      if (f.synced !== undefined) return { kind: "synced" };
      return { kind: "other" };
    },
  };
}

/** Resolves with a socket once open; rejects if it fails before that. */
export function openSocket(url: string, onFrame: (frame: string) => void): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.onmessage = (e) => onFrame(e.data as string);
    ws.onopen = () => resolve(ws);
    ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
  });
}

/** The first line a child prints on stdout (servers print their URL there). */
export async function firstLine(stdout: ReadableStream<Uint8Array>, what: string) {
  const reader = stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${what} did not start`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return text.split("\n")[0]!.trim();
}

// Catch-up: `queued` messages stored for a device while it was offline, then the time from
// opening its connection until it has received every one. Repeated for `devices` devices
// (each its own backlog, all queued before the first catch-up).
import { cpuSeconds, Interference } from "../proc.ts";
import type { Target } from "../target.ts";
import { closeAll, connectAll, payloads, until } from "./shared.ts";

export interface CatchUpOptions {
  queued: number;
  devices: number;
}

export interface CatchUpResult extends CatchUpOptions {
  /** Milliseconds from connect until all `queued` were received, per device. */
  times: number[];
  /** Messages some device had not received when it timed out. */
  missing: number;
  /** Server CPU per caught-up message (µs), over all catch-ups. */
  serverCpuPerMessageUs: number;
  /** CPU other processes on the machine took during the catch-ups, in cores. */
  otherCores: number;
}

/** Sends in flight while queueing (the backlog is made, not measured). */
const QUEUE_WINDOW = 2_000;
const TIMEOUT_MS = 60_000;

export async function catchUp(target: Target, o: CatchUpOptions): Promise<CatchUpResult> {
  const server = await target.start("0");
  try {
    const offline = Array.from({ length: o.devices }, (_, i) => `off${i}`);
    await target.prepare({
      direct: offline.map((d) => ["cs", d]),
      groups: {},
      devices: [],
    });
    let acked = 0;
    const [sender] = await connectAll(target, ["cs"], (_i, frame) => {
      if (target.decode(frame).kind === "ack") acked++;
    });
    const bodies = payloads(16);
    let n = 0;
    for (const device of offline) {
      const to = target.direct("cs", device);
      for (let k = 0; k < o.queued; k++, n++) {
        if (n - acked >= QUEUE_WINDOW) await until(() => n - acked < QUEUE_WINDOW, TIMEOUT_MS);
        sender!.send(target.encodeSend(n, to, bodies[n % bodies.length]!));
      }
    }
    if (!(await until(() => acked >= n, TIMEOUT_MS))) throw new Error("backlog was not acked");
    await closeAll([sender!]);

    const times: number[] = [];
    let missing = 0;
    const others = new Interference([server.pid, process.pid]);
    others.start();
    const cpuBefore = cpuSeconds(server.pid);
    for (const device of offline) {
      const seen = new Set<number>();
      const start = performance.now();
      let end = 0;
      const ws = await target.connect(
        device,
        (frame) => {
          const m = target.decode(frame);
          if (m.kind !== "deliver") return;
          for (const k of m.ns) seen.add(k);
          if (seen.size >= o.queued && end === 0) end = performance.now();
        },
        { catchUp: true },
      );
      await until(() => end > 0, TIMEOUT_MS);
      times.push(end > 0 ? end - start : Number.NaN);
      missing += o.queued - seen.size;
      ws.close();
    }
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const otherCores = others.stop();
    const serverCpuPerMessageUs = (cpu / (o.queued * o.devices)) * 1e6;
    return { ...o, times, missing, serverCpuPerMessageUs, otherCores };
  } finally {
    await server.stop();
  }
}

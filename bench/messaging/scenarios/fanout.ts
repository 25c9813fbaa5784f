// Group fan-out: one sender, a group of `members` online devices. Messages go out at a fixed
// rate (open loop); for each, the time from send until the last member received it.
import { cpuSeconds, Interference } from "../proc.ts";
import type { Target } from "../target.ts";
import { closeAll, connectAll, type Latency, latency, payloads, until } from "./shared.ts";

export interface FanoutOptions {
  members: number;
  messages: number;
  /** Group messages per second. */
  rate: number;
}

export interface FanoutResult extends FanoutOptions {
  /** Milliseconds from send until every member had it. */
  sendToAll: Latency;
  sendToAck: Latency;
  /** Messages some member never got before the timeout. */
  incomplete: number;
  /** Server CPU per delivered copy (µs) and per group message (µs). */
  serverCpuPerCopyUs: number;
  serverCpuPerMessageUs: number;
  /** CPU other processes on the machine took meanwhile, in cores. */
  otherCores: number;
}

const DRAIN_MS = 10_000;

export async function fanout(target: Target, o: FanoutOptions): Promise<FanoutResult> {
  const server = await target.start("0");
  try {
    const members = Array.from({ length: o.members }, (_, i) => `f${i}`);
    await target.prepare({
      direct: [],
      groups: { fan: { sender: "fs", members } },
      devices: ["fs"],
    });
    const sentAt = new Float64Array(o.messages);
    const copies = new Int32Array(o.messages);
    const toAll = new Float64Array(o.messages);
    const toAck = new Float64Array(o.messages);
    let complete = 0;
    let acked = 0;
    const memberSockets = await connectAll(target, members, (_i, frame) => {
      const m = target.decode(frame);
      if (m.kind !== "deliver") return;
      for (const n of m.ns) {
        copies[n] = copies[n]! + 1;
        if (copies[n] === o.members) toAll[complete++] = performance.now() - sentAt[n]!;
      }
    });
    const [sender] = await connectAll(target, ["fs"], (_i, frame) => {
      const m = target.decode(frame);
      if (m.kind === "ack") toAck[acked++] = performance.now() - sentAt[m.n]!;
    });
    const to = target.group("fan");
    const [body] = payloads(1);
    const others = new Interference([server.pid, process.pid]);
    others.start();
    const cpuBefore = cpuSeconds(server.pid);
    const t0 = performance.now();
    for (let n = 0; n < o.messages; n++) {
      // Open loop: each send at its scheduled time, whether or not the last one arrived.
      const wait = t0 + (n / o.rate) * 1000 - performance.now();
      if (wait > 0) await Bun.sleep(wait);
      sentAt[n] = performance.now();
      sender!.send(target.encodeSend(n, to, body!));
    }
    await until(() => complete >= o.messages && acked >= o.messages, DRAIN_MS);
    const cpu = cpuSeconds(server.pid) - cpuBefore;
    const otherCores = others.stop();
    await closeAll([...memberSockets, sender!]);
    let copiesTotal = 0;
    for (const c of copies) copiesTotal += c;
    return {
      ...o,
      sendToAll: latency(toAll, complete),
      sendToAck: latency(toAck, acked),
      incomplete: o.messages - complete,
      serverCpuPerCopyUs: (cpu / copiesTotal) * 1e6,
      serverCpuPerMessageUs: (cpu / o.messages) * 1e6,
      otherCores,
    };
  } finally {
    await server.stop();
  }
}

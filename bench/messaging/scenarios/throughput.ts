// Durable throughput and latency, open loop: `pairs` senders each send to their own receiver,
// together at a fixed rate whatever the server answers (a slow server is not sent less, so its
// queueing shows in the latencies). After `warmup` seconds, a window of `seconds` is measured:
// acks and deliveries received in it, the server's CPU time over it, and the send→ack and
// send→deliver latencies of the messages sent in it.
import { cpuSeconds, Interference } from "../proc.ts";
import type { Target } from "../target.ts";
import { closeAll, connectAll, type Latency, latency, payloads, until } from "./shared.ts";

export interface ThroughputOptions {
  /** Messages per second offered, all senders together. */
  rate: number;
  seconds: number;
  warmup: number;
  pairs: number;
}

export interface ThroughputResult extends ThroughputOptions {
  /** Acks received in the window, per second: messages made durable. */
  ackedPerSecond: number;
  deliveredPerSecond: number;
  /** Milliseconds. */
  sendToAck: Latency;
  sendToDeliver: Latency;
  /** Messages sent in the window that got no ack / no delivery by the end of the drain. */
  unacked: number;
  undelivered: number;
  /** Server CPU seconds per second of window (1 = one core busy), and per delivered message. */
  serverCores: number;
  serverCpuPerMessageUs: number;
  /** The generator's own CPU over the window (1 = its core busy). */
  generatorCores: number;
  /** How late the generator sent, at worst, against its schedule in the window (ms). */
  maxSendLagMs: number;
  /** CPU other processes on the machine took during the window, in cores. */
  otherCores: number;
}

/** Send timer period: each tick sends what the schedule says is due. */
const TICK_MS = 1;
/** How long to wait after the last send for acks and deliveries still on their way. */
const DRAIN_MS = 10_000;

export async function throughput(target: Target, o: ThroughputOptions): Promise<ThroughputResult> {
  const server = await target.start("0");
  try {
    const senders = Array.from({ length: o.pairs }, (_, i) => `s${i}`);
    const receivers = Array.from({ length: o.pairs }, (_, i) => `r${i}`);
    await target.prepare({
      direct: senders.map((s, i) => [s, receivers[i]!]),
      groups: {},
      devices: [],
    });
    const total = Math.ceil(o.rate * (o.warmup + o.seconds));
    const firstMeasured = Math.ceil(o.rate * o.warmup);
    const sentAt = new Float64Array(total);
    const ackLatency = new Float64Array(total - firstMeasured);
    const deliverLatency = new Float64Array(total - firstMeasured);
    let acks = 0;
    let deliveries = 0;
    let acked = 0; // of the measured messages
    let delivered = 0;
    let windowStart = Number.POSITIVE_INFINITY;
    let windowEnd = Number.POSITIVE_INFINITY;
    let acksInWindow = 0;
    let deliveriesInWindow = 0;

    const onAckFrame = (_i: number, frame: string) => {
      const m = target.decode(frame);
      if (m.kind !== "ack") return;
      const now = performance.now();
      acks++;
      if (now >= windowStart && now < windowEnd) acksInWindow++;
      if (m.n >= firstMeasured) ackLatency[acked++] = now - sentAt[m.n]!;
    };
    const onDeliverFrame = (_i: number, frame: string) => {
      const m = target.decode(frame);
      if (m.kind !== "deliver") return;
      const now = performance.now();
      for (const n of m.ns) {
        deliveries++;
        if (now >= windowStart && now < windowEnd) deliveriesInWindow++;
        if (n >= firstMeasured) deliverLatency[delivered++] = now - sentAt[n]!;
      }
    };
    const receiverSockets = await connectAll(target, receivers, onDeliverFrame);
    const senderSockets = await connectAll(target, senders, onAckFrame);
    const addresses = senders.map((s, i) => target.direct(s, receivers[i]!));
    const bodies = payloads(o.pairs);

    let sent = 0;
    let maxLag = 0;
    let cpuAtStart = 0;
    let serverCpu = 0;
    let generatorCpu = 0;
    let generatorAtStart = process.cpuUsage();
    let cpuWindow = 0; // seconds between the two CPU readings
    let cpuReadAt = 0;
    const others = new Interference([server.pid, process.pid]);
    let otherCores = 0;
    const t0 = performance.now();
    windowStart = t0 + o.warmup * 1000;
    windowEnd = windowStart + o.seconds * 1000;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = performance.now();
        if (cpuAtStart === 0 && now >= windowStart) {
          cpuAtStart = cpuSeconds(server.pid);
          generatorAtStart = process.cpuUsage();
          cpuReadAt = now;
          others.start();
        }
        const due = Math.min(total, Math.floor(((now - t0) / 1000) * o.rate));
        if (sent < due && now >= windowStart)
          maxLag = Math.max(maxLag, now - (t0 + (sent / o.rate) * 1000));
        for (; sent < due; sent++) {
          const i = sent % o.pairs;
          sentAt[sent] = now;
          senderSockets[i]!.send(target.encodeSend(sent, addresses[i]!, bodies[i]!));
        }
        if (now >= windowEnd) {
          serverCpu = cpuSeconds(server.pid) - cpuAtStart;
          const g = process.cpuUsage(generatorAtStart);
          generatorCpu = (g.user + g.system) / 1e6;
          cpuWindow = (now - cpuReadAt) / 1000;
          otherCores = others.stop();
          clearInterval(timer);
          resolve();
        }
      }, TICK_MS);
    });
    const measured = total - firstMeasured;
    await until(() => acks >= sent && deliveries >= sent, DRAIN_MS);
    await closeAll([...senderSockets, ...receiverSockets]);
    return {
      ...o,
      ackedPerSecond: acksInWindow / o.seconds,
      deliveredPerSecond: deliveriesInWindow / o.seconds,
      sendToAck: latency(ackLatency, acked),
      sendToDeliver: latency(deliverLatency, delivered),
      unacked: measured - acked,
      undelivered: measured - delivered,
      serverCores: serverCpu / cpuWindow,
      // CPU over the readings' interval, messages delivered per second of the window.
      serverCpuPerMessageUs: (serverCpu / cpuWindow / (deliveriesInWindow / o.seconds)) * 1e6,
      generatorCores: generatorCpu / cpuWindow,
      maxSendLagMs: maxLag,
      otherCores,
    };
  } finally {
    await server.stop();
  }
}

// The text report of bench/messaging/run.ts: every figure under the command that made it.
import type { CatchUpResult } from "./scenarios/catchup.ts";
import type { FanoutResult } from "./scenarios/fanout.ts";
import type { IdleResult } from "./scenarios/idle.ts";
import { PAYLOAD_BYTES } from "./scenarios/shared.ts";
import type { ThroughputResult } from "./scenarios/throughput.ts";

interface Run<T> {
  command: string;
  result: T;
  others: number;
  attempt?: number;
}

export interface Report {
  command: string;
  date: string;
  machine: string;
  fileLimit: number;
  target: string;
  throughput: Run<ThroughputResult>[];
  fanout: Run<FanoutResult>;
  catchup: Run<CatchUpResult>;
  idle: Run<IdleResult>;
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : n.toFixed(0));
const cores = (n: number) => n.toFixed(2);
const kib = (bytes: number) => (bytes / 1024).toFixed(2);
const pad = (cells: string[], widths: number[]) =>
  cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
const others = (r: Run<unknown>) =>
  `other processes ${cores(r.others)} cores${r.attempt && r.attempt > 1 ? `, attempt ${r.attempt}` : ""}`;

export function formatReport(r: Report): string {
  const lines: string[] = [
    `messaging benchmark, target ${r.target}`,
    `command: ${r.command}`,
    `date: ${r.date}`,
    `machine: ${r.machine}; server on core 0 (taskset -c 0), generator on core 1 (taskset -c 1); open files ${int(r.fileLimit)} per process`,
    "",
  ];
  const t0 = r.throughput[0]!.result;
  lines.push(
    `throughput, open loop: ${t0.pairs} senders → ${t0.pairs} receivers, ${PAYLOAD_BYTES}-byte payloads, ` +
      `${t0.warmup} s warm-up + ${t0.seconds} s measured; latencies in ms`,
  );
  const widths = [8, 9, 9, 8, 8, 8, 8, 7, 7, 6, 7, 7, 7];
  lines.push(
    pad(
      [
        "offered/s",
        "acked/s",
        "deliv./s",
        "ack p50",
        "ack p99",
        "dlv p50",
        "dlv p99",
        "srv cpu",
        "µs/msg",
        "gen cpu",
        "lag ms",
        "lost",
        "others",
      ],
      widths,
    ),
  );
  for (const { result: x, others } of r.throughput)
    lines.push(
      pad(
        [
          int(x.rate),
          int(x.ackedPerSecond),
          int(x.deliveredPerSecond),
          ms(x.sendToAck.p50),
          ms(x.sendToAck.p99),
          ms(x.sendToDeliver.p50),
          ms(x.sendToDeliver.p99),
          cores(x.serverCores),
          x.serverCpuPerMessageUs.toFixed(1),
          cores(x.generatorCores),
          ms(x.maxSendLagMs),
          String(Math.max(x.unacked, x.undelivered)),
          cores(others),
        ],
        widths,
      ),
    );
  lines.push(...r.throughput.map((x) => `  ${x.command}`), "");

  const f = r.fanout.result;
  lines.push(
    `fan-out: 1 sender → ${int(f.members)} online members, ${f.messages} messages at ${f.rate}/s (${others(r.fanout)})`,
    `  send → all ${int(f.members)} received: p50 ${ms(f.sendToAll.p50)} ms, p99 ${ms(f.sendToAll.p99)} ms, max ${ms(f.sendToAll.max)} ms; send → ack p50 ${ms(f.sendToAck.p50)} ms; incomplete ${f.incomplete}`,
    `  server CPU ${f.serverCpuPerMessageUs.toFixed(0)} µs per group message, ${f.serverCpuPerCopyUs.toFixed(2)} µs per delivered copy`,
    `  ${r.fanout.command}`,
    "",
  );
  const c = r.catchup.result;
  const sorted = [...c.times].sort((a, b) => a - b);
  lines.push(
    `catch-up: ${int(c.queued)} queued messages for one offline device, connect → all received, ${c.devices} devices (${others(r.catchup)})`,
    `  ${c.times.map((t) => `${ms(t)} ms`).join(", ")} (median ${ms(sorted[sorted.length >> 1]!)} ms, ${int(c.queued / (sorted[sorted.length >> 1]! / 1000))} msg/s); missing ${c.missing}; server CPU ${c.serverCpuPerMessageUs.toFixed(2)} µs per message`,
    `  ${r.catchup.command}`,
    "",
  );
  const i = r.idle.result;
  lines.push(
    `idle connections: server RSS before and after ${int(i.connections)} silent WebSockets (${others(r.idle)})`,
    `  baseline ${kib(i.baselineRss)} KiB; ${i.points.map((p) => `${int(p.connections)}: ${kib(p.rss)} KiB`).join("; ")}`,
    `  ${kib(i.bytesPerConnection)} KiB per connection overall, ${kib(i.marginalBytesPerConnection)} KiB per connection after the first ${int(i.points[0]!.connections)} (open-file limits: generator ${int(i.openFileLimits.generator)}, server ${int(i.openFileLimits.server)})`,
    `  ${r.idle.command}`,
  );
  return lines.join("\n");
}

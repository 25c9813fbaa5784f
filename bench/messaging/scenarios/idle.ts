// Memory per idle connection: the server's resident memory before and after `connections`
// silent WebSocket connections, read in `steps` equal steps to show it grows linearly.
import { Interference, openFileLimit, rssBytes } from "../proc.ts";
import type { Target } from "../target.ts";
import { closeAll, connectAll } from "./shared.ts";

export interface IdleOptions {
  connections: number;
  steps: number;
}

export interface IdleResult extends IdleOptions {
  baselineRss: number;
  /** Connections open and the server's RSS at each step. */
  points: { connections: number; rss: number }[];
  /** (last RSS − baseline) / connections, bytes. */
  bytesPerConnection: number;
  /** Growth from the first step to the last, per connection added: without one-off growth. */
  marginalBytesPerConnection: number;
  openFileLimits: { generator: number; server: number };
  /** CPU other processes on the machine took meanwhile, in cores. */
  otherCores: number;
}

/** Time for the server to settle (allocations, GC) before reading its RSS. */
const SETTLE_MS = 2_000;
/** Descriptors beyond the sockets: stdio, the listener, the database, epoll, timers. */
const SPARE_FDS = 100;

export async function idle(target: Target, o: IdleOptions): Promise<IdleResult> {
  const server = await target.start("0");
  const sockets: WebSocket[] = [];
  try {
    const openFileLimits = { generator: openFileLimit(), server: openFileLimit(server.pid) };
    const need = o.connections + SPARE_FDS;
    if (Math.min(openFileLimits.generator, openFileLimits.server) < need)
      throw new Error(
        `${o.connections} connections need ${need} open files in each process; limits are ` +
          `generator ${openFileLimits.generator}, server ${openFileLimits.server} (ulimit -n)`,
      );
    const devices = Array.from({ length: o.connections }, (_, i) => `i${i}`);
    await target.prepare({ direct: [], groups: {}, devices });
    const others = new Interference([server.pid, process.pid]);
    others.start();
    await Bun.sleep(SETTLE_MS);
    const baselineRss = rssBytes(server.pid);
    const points: IdleResult["points"] = [];
    const step = Math.ceil(o.connections / o.steps);
    for (let start = 0; start < o.connections; start += step) {
      sockets.push(...(await connectAll(target, devices.slice(start, start + step), () => {})));
      await Bun.sleep(SETTLE_MS);
      points.push({ connections: sockets.length, rss: rssBytes(server.pid) });
    }
    const first = points[0]!;
    const last = points[points.length - 1]!;
    return {
      ...o,
      baselineRss,
      points,
      bytesPerConnection: (last.rss - baselineRss) / last.connections,
      marginalBytesPerConnection: (last.rss - first.rss) / (last.connections - first.connections),
      openFileLimits,
      otherCores: others.stop(),
    };
  } finally {
    await closeAll(sockets);
    await server.stop();
  }
}

// What the harness reads from /proc (Linux only): a process's CPU time and resident memory,
// its open-file limit, and the machine's CPU model.
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat times (`getconf CLK_TCK`, 100 on Linux). */
const CLK_TCK = Number(Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim()) || 100;

/** User + system CPU seconds the process has used so far, all its threads included. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the ")" that closes the command name: state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Resident set size in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** The soft limit on open files of a process ("self" for this one). */
export function openFileLimit(pid: number | "self" = "self"): number {
  const m = readFileSync(`/proc/${pid}/limits`, "utf8").match(/^Max open files\s+(\d+)/m);
  return m ? Number(m[1]) : Number.POSITIVE_INFINITY;
}

export function machine(): { cores: number; model: string } {
  const info = readFileSync("/proc/cpuinfo", "utf8");
  return {
    cores: (info.match(/^processor\s*:/gm) ?? []).length,
    model: info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown",
  };
}

/** CPU seconds the whole machine has spent busy (not idle, not waiting on I/O), all cores. */
export function machineBusySeconds(): number {
  const [user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0]!
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / CLK_TCK;
}

/**
 * Counts the CPU that processes other than `pids` take while `f` runs, so a figure measured
 * while something else ran on this (shared) machine can be flagged; in cores (1 = one core).
 */
export class Interference {
  private machine = 0;
  private ours = 0;
  private at = 0;
  constructor(private pids: number[]) {}
  start() {
    this.machine = machineBusySeconds();
    this.ours = this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    this.at = performance.now();
  }
  /** Other processes' CPU since start(), in cores. */
  stop(): number {
    const machine = machineBusySeconds() - this.machine;
    const ours = this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0) - this.ours;
    return Math.max(0, machine - ours) / ((performance.now() - this.at) / 1000);
  }
}

/** Waits until the machine's other processes use under `cores` (checked over 1 s). */
export async function quietMachine(cores = 0.15, timeoutMs = 120_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const probe = new Interference([process.pid]);
    probe.start();
    await Bun.sleep(1_000);
    const others = probe.stop();
    if (others < cores || performance.now() > deadline) return others;
  }
}

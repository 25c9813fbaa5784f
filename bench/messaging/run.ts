// Runs every messaging scenario against a target and prints the report: each figure with the
// command that produced it, the machine and the date. Each scenario runs in a fresh generator
// process pinned to core 1 (taskset -c 1), which starts a fresh server pinned to core 0.
//   bun bench/messaging/run.ts [target=ceiling[,ceiling-worker,...]] [seconds=10] [rates=20000,...]
//   npm run bench:messaging
// This machine is shared: before each scenario it waits until other processes are quiet, and
// a throughput run during which they took more than OTHERS_LIMIT cores is run again.
import { join } from "node:path";
import { machine, quietMachine } from "./proc.ts";
import { formatReport } from "./report.ts";
import type { ThroughputResult } from "./scenarios/throughput.ts";

/** Throughput runs during which other processes took more than this many cores are redone. */
const OTHERS_LIMIT = 0.05;
const ATTEMPTS = 5;
/** The idle-connection scenario's sockets, plus the generator's other descriptors. */
const FDS_NEEDED = 15_000 + 100;
const LOAD = join(import.meta.dir, "load.ts");

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.split("=") as [string, string]));
const targets = (args.target ?? "ceiling").split(",");
const seconds = Number(args.seconds ?? 10);
const rates = (args.rates ?? "20000,40000,60000,80000,90000,100000,120000,200000")
  .split(",")
  .map(Number);

if (!Bun.which("taskset")) throw new Error("taskset is missing: apt-get install -y util-linux");
const hardLimit = Number(Bun.spawnSync(["sh", "-c", "ulimit -Hn"]).stdout.toString().trim());
// Raise the soft limit as far as the hard one allows (the server inherits it from the
// generator); both processes need FDS_NEEDED, under this workplace's 20,000 per process.
const fileLimit = Math.min(Number.isFinite(hardLimit) ? hardLimit : 20_000, 20_000);
if (fileLimit < FDS_NEEDED)
  console.error(`warning: open-file limit ${fileLimit} < ${FDS_NEEDED}; the idle scenario fails`);

async function load(target: string, scenario: string, options: Record<string, number>) {
  const kv = Object.entries(options).map(([k, v]) => `${k}=${v}`);
  const command = `taskset -c 1 bun bench/messaging/load.ts ${target} ${scenario} ${kv.join(" ")}`;
  const proc = Bun.spawn(
    [
      "sh",
      "-c",
      `ulimit -n ${fileLimit} && exec "$@"`,
      "sh",
      "taskset",
      "-c",
      "1",
      process.execPath,
      LOAD,
      target,
      scenario,
      ...kv,
    ],
    { stdout: "pipe", stderr: "inherit" },
  );
  const out = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`${command} failed`);
  return { command, result: JSON.parse(out.trim().split("\n").pop()!).result };
}

async function measured(target: string, scenario: string, options: Record<string, number>) {
  for (let attempt = 1; ; attempt++) {
    await quietMachine(OTHERS_LIMIT);
    const run = await load(target, scenario, options);
    const others = (run.result as { otherCores: number }).otherCores;
    process.stderr.write(`${run.command}: done (other processes ${others.toFixed(2)} cores)\n`);
    if (others <= OTHERS_LIMIT || attempt >= ATTEMPTS) return { ...run, others, attempt };
  }
}

const cpu = machine();
for (const target of targets) {
  const started = new Date();
  const throughputRuns: { command: string; result: ThroughputResult; others: number }[] = [];
  for (const rate of rates)
    throughputRuns.push(
      await measured(target, "throughput", { rate, seconds, warmup: 2, pairs: 100 }),
    );
  const fanoutRun = await measured(target, "fanout", { members: 1_000, messages: 300, rate: 20 });
  const catchupRun = await measured(target, "catchup", { queued: 10_000, devices: 3 });
  const idleRun = await measured(target, "idle", { connections: 15_000, steps: 3 });
  console.log(
    formatReport({
      command: `bun bench/messaging/run.ts ${process.argv.slice(2).join(" ")}`.trim(),
      date: started.toISOString(),
      machine: `${cpu.cores} × ${cpu.model}, Bun ${Bun.version}`,
      fileLimit,
      target,
      throughput: throughputRuns,
      fanout: fanoutRun,
      catchup: catchupRun,
      idle: idleRun,
    }),
    "\n",
  );
}

// HTTP overhead of Parley's stack (Elysia app, hooks, logging, metrics) against the ceiling
// of a bare Bun.serve answering the same JSON, both loaded by wrk from another process.
//   bun bench/http-health.ts [seconds=10] [connections=50]
// Needs wrk (apt-get install -y wrk).
import { join } from "node:path";

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 50);

async function serve(script: string, logLevel: string): Promise<{ url: string; stop: () => void }> {
  // Logs go to /dev/null: the cost of writing them is measured, not the terminal's.
  const proc = Bun.spawn([process.execPath, script], {
    stdout: "pipe",
    stderr: "ignore",
    env: { ...process.env, PARLEY_LOG_LEVEL: logLevel },
  });
  const reader = proc.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`server ${script} did not start`);
    text += new TextDecoder().decode(value);
  }
  return { url: text.trim(), stop: () => proc.kill("SIGTERM") };
}

function wrk(url: string): number {
  const out = Bun.spawnSync(["wrk", "-t1", `-c${connections}`, `-d${seconds}s`, url]);
  const text = out.stdout.toString();
  const rps = text.match(/Requests\/sec:\s+([\d.]+)/)?.[1];
  if (!rps) throw new Error(`wrk failed: ${text}${out.stderr}`);
  return Number(rps);
}

const servers = join(import.meta.dir, "servers");
const results: Record<string, number> = {};
for (const [name, script, level] of [
  ["bare Bun.serve (ceiling)", join(servers, "bare.ts"), "warn"],
  ["parley, request log on", join(servers, "parley.ts"), "info"],
  ["parley, request log off", join(servers, "parley.ts"), "warn"],
] as const) {
  const s = await serve(script, level);
  wrk(`${s.url}/health`); // warm-up run, result dropped
  results[name] = wrk(`${s.url}/health`);
  s.stop();
}
const ceiling = results["bare Bun.serve (ceiling)"]!;
console.log(
  `command: bun bench/http-health.ts ${seconds} ${connections}  (wrk -t1 -c${connections} -d${seconds}s)`,
);
for (const [name, rps] of Object.entries(results)) {
  console.log(
    `${name.padEnd(26)} ${rps.toFixed(0).padStart(8)} req/s  ${((rps / ceiling) * 100).toFixed(0)}% of ceiling`,
  );
}

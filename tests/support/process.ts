import type { Subprocess } from "bun";

/** Starts `parley serve` (source or binary) and waits for its "listening" log line. */
export async function spawnServer(
  cmd: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ proc: Subprocess<"ignore", "pipe", "pipe">; url: string; stderr: () => string }> {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: options.cwd, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let buffered = "";
  const reader = proc.stderr.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + 20_000;
  for (;;) {
    const match = buffered.match(/"msg":"listening","url":"([^"]+)"/);
    if (match) {
      // Keep draining stderr so the child never blocks on a full pipe.
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffered += decoder.decode(value);
        }
      })();
      return { proc, url: match[1]!.replace(/\/$/, ""), stderr: () => buffered };
    }
    if (Date.now() > deadline) throw new Error(`server did not start:\n${buffered}`);
    const { value, done } = await reader.read();
    if (done)
      throw new Error(`server exited before listening (code ${await proc.exited}):\n${buffered}`);
    buffered += decoder.decode(value);
  }
}

// What the scenarios share: pre-encrypted payloads, connecting many devices, waiting, and
// latency summaries.
import type { Target } from "../target.ts";

/** Size of one pre-encrypted message body before base64 (a short text message, sealed). */
export const PAYLOAD_BYTES = 200;
/** Connections opened at once when opening many (more would overflow the accept backlog). */
const CONNECT_CONCURRENCY = 500;

/** `count` distinct opaque payloads, base64, made before any timing starts. */
export function payloads(count: number): string[] {
  return Array.from({ length: count }, () =>
    Buffer.from(crypto.getRandomValues(new Uint8Array(PAYLOAD_BYTES))).toString("base64"),
  );
}

/** Opens every device's socket, CONNECT_CONCURRENCY at a time, in order. */
export async function connectAll(
  target: Target,
  devices: string[],
  onFrame: (index: number, frame: string) => void,
): Promise<WebSocket[]> {
  const sockets: WebSocket[] = new Array(devices.length);
  for (let start = 0; start < devices.length; start += CONNECT_CONCURRENCY) {
    const batch = devices.slice(start, start + CONNECT_CONCURRENCY);
    await Promise.all(
      batch.map(async (d, j) => {
        const i = start + j;
        sockets[i] = await target.connect(d, (frame) => onFrame(i, frame));
      }),
    );
  }
  return sockets;
}

/** Closes sockets and waits a moment for the server to see the closes. */
export async function closeAll(sockets: WebSocket[]) {
  for (const ws of sockets) ws.close();
  await Bun.sleep(200);
}

/** Resolves when `done()` holds, polling every 5 ms; false if `timeoutMs` passed first. */
export async function until(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) return false;
    await Bun.sleep(5);
  }
  return true;
}

export interface Latency {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** Percentiles (nearest rank) of the first `count` samples, in the samples' unit. */
export function latency(samples: Float64Array, count = samples.length): Latency {
  const sorted = samples.slice(0, count).sort();
  const at = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * count) - 1)] ?? Number.NaN;
  return { count, p50: at(50), p99: at(99), max: count ? sorted[count - 1]! : Number.NaN };
}

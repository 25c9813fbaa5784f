// What every protocol benchmark shares: the batch runner and the inputs.
import * as signal from "@signalapp/libsignal-client";
/** Operations per timed batch, and messages in flight for the burst and page rows. */
export const BATCH = 128;
export const PAGE = 64;
export const payload = crypto.getRandomValues(new Uint8Array(1024));

/**
 * A benchmark: `prepare` makes what one timed batch needs (untimed), `run` does `size`
 * operations (timed). Batches run until the timed total reaches the duration.
 */
export interface Bench<T> {
  size: number;
  prepare(): Promise<T> | T;
  run(batch: T): Promise<void> | void;
}

/** Overall ops/s, and the slowest and fastest of WINDOWS equal slices of the run. */
export interface Rate {
  rate: number;
  min: number;
  max: number;
}
export const WINDOWS = 5;

export async function opsPerSecond<T>(b: Bench<T>, duration: number): Promise<Rate> {
  const windowMs = (duration * 1000) / WINDOWS;
  const windows: number[] = [];
  let elapsed = 0;
  let ops = 0;
  let windowElapsed = 0;
  let windowOps = 0;
  while (elapsed < duration * 1000) {
    const batch = await b.prepare();
    const start = performance.now();
    await b.run(batch);
    const took = performance.now() - start;
    elapsed += took;
    ops += b.size;
    windowElapsed += took;
    windowOps += b.size;
    if (windowElapsed >= windowMs) {
      windows.push(windowOps / (windowElapsed / 1000));
      windowElapsed = 0;
      windowOps = 0;
    }
  }
  if (windowOps > 0) windows.push(windowOps / (windowElapsed / 1000));
  return { rate: ops / (elapsed / 1000), min: Math.min(...windows), max: Math.max(...windows) };
}

export const uuid = () => crypto.randomUUID();
export const uuids = (n: number) => Array.from({ length: n }, uuid);

/** Both users' ids and 32-byte account keys; the same inputs for Parley and libsignal. */
export const safetyInputs = (() => {
  const key = () => signal.PrivateKey.generate().getPublicKey();
  return { local: { userId: uuid(), key: key() }, remote: { userId: uuid(), key: key() } };
})();

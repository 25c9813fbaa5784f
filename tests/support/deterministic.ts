import { sha256 } from "@noble/hashes/sha2.js";
import type { Clock, Rng } from "../../protocol/crypto/bytes.ts";
import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import { noblePrimitives } from "../../protocol/crypto/noble.ts";
import type { Primitives } from "../../protocol/crypto/primitives.ts";

/**
 * A reproducible byte stream for tests and frozen vectors: SHA-256(seed ‖ counter) blocks.
 * Not for production: it exists so the same seed always yields the same keys.
 */
export function seededRng(seed: string): Rng {
  let counter = 0;
  let pool = new Uint8Array(0);
  const seedBytes = new TextEncoder().encode(seed);
  return (n: number) => {
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (pool.length === 0) {
        const block = new Uint8Array(seedBytes.length + 8);
        block.set(seedBytes);
        new DataView(block.buffer).setBigUint64(seedBytes.length, BigInt(counter++));
        pool = sha256(block);
      }
      const take = Math.min(pool.length, n - filled);
      out.set(pool.subarray(0, take), filled);
      pool = pool.subarray(take);
      filled += take;
    }
    return out;
  };
}

/** A clock that starts at `start` (default 2026-01-01T00:00:00Z) and moves only when told. */
export function fixedClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(ms: number): void } {
  let t = start;
  const clock = (() => t) as Clock & { advance(ms: number): void };
  clock.advance = (ms: number) => {
    t += ms;
  };
  return clock;
}

/** A deterministic protocol context (noble by default, so vectors do not depend on the runtime). */
export function testContext(seed: string, prims: Primitives = noblePrimitives) {
  const now = fixedClock();
  const ctx: ProtocolContext & { now: typeof now } = { prims, rng: seededRng(seed), now };
  return ctx;
}

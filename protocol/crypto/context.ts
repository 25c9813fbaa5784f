import { type Clock, type Rng, systemClock, systemRng } from "./bytes.ts";
import { defaultPrimitives } from "./native.ts";
import type { Primitives } from "./primitives.ts";

/**
 * What every protocol operation needs from its environment, injected so tests are
 * deterministic: the primitives (native or noble), randomness and the clock.
 */
export interface ProtocolContext {
  prims: Primitives;
  rng: Rng;
  now: Clock;
}

/** The production context: fastest primitives, the system CSPRNG and clock. */
export async function defaultContext(): Promise<ProtocolContext> {
  return { prims: await defaultPrimitives(), rng: systemRng, now: systemClock };
}

// Fuzzing every decoder: 10,000 cases per CI run (more on demand: bun scripts/fuzz-decoders.ts).
import { expect, test } from "bun:test";
import { TARGETS } from "./decoders.ts";
import { fuzzDecoders } from "./fuzzer.ts";

const CASES = Number(process.env.PARLEY_FUZZ_CASES ?? 10_000);
const SEED = Number(process.env.PARLEY_FUZZ_SEED ?? Date.now() % 2 ** 31);

test(`${CASES} random and mutated inputs: decoders only ever throw malformed_message (seed ${SEED})`, () => {
  const { failures, accepted } = fuzzDecoders(CASES, SEED);
  expect(failures.slice(0, 3)).toEqual([]);
  // Some mutations are still valid (e.g. a flipped key byte): the fuzzer is not only noise.
  expect(accepted).toBeGreaterThan(0);
  expect(TARGETS.length).toBe(21);
}, 120_000);

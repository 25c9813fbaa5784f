import { ParleyError } from "../../protocol/errors.ts";
import { sampleInputs, TARGETS } from "./decoders.ts";

/** A small deterministic PRNG (xorshift32), so a failing case can be replayed from its seed. */
function prng(seed: number) {
  let x = seed >>> 0 || 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    bytes: (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256)),
  };
}

export interface FuzzFailure {
  target: string;
  input: string;
  error: string;
}

/**
 * Feeds `cases` random and mutated inputs to every decoder. Mutations of valid encodings:
 * bit flips, byte overwrites, truncation, extension, insertion, deletion, splices of two
 * samples; plus random bytes behind a valid version/type prefix, and pure noise.
 */
export function fuzzDecoders(
  cases: number,
  seed: number,
): { failures: FuzzFailure[]; accepted: number } {
  const rand = prng(seed);
  const samples = sampleInputs();
  const failures: FuzzFailure[] = [];
  let accepted = 0;
  for (let i = 0; i < cases; i++) {
    const target = TARGETS[i % TARGETS.length]!;
    const own = samples.filter((s) => s[1] === target.type);
    const base =
      own.length > 0 && rand.next() < 0.85
        ? own[rand.int(own.length)]!
        : samples[rand.int(samples.length)]!;
    const input = mutate(base, samples, rand);
    try {
      target.decode(input);
      accepted++;
    } catch (err) {
      if (!(err instanceof ParleyError && err.code === "malformed_message")) {
        failures.push({
          target: target.name,
          input: Buffer.from(input).toString("hex"),
          error: String(err),
        });
      }
    }
  }
  return { failures, accepted };
}

function mutate(
  base: Uint8Array,
  samples: Uint8Array[],
  rand: ReturnType<typeof prng>,
): Uint8Array {
  const b = base.slice();
  const at = () => rand.int(Math.max(1, b.length));
  switch (rand.int(9)) {
    case 0:
      if (b.length) b[at()]! ^= 1 << rand.int(8);
      return b;
    case 1: {
      for (let k = 0; k < 1 + rand.int(8); k++) if (b.length) b[at()] = rand.int(256);
      return b;
    }
    case 2:
      return b.slice(0, at());
    case 3:
      return Uint8Array.from([...b, ...rand.bytes(1 + rand.int(64))]);
    case 4: {
      const i = at();
      return Uint8Array.from([...b.slice(0, i), ...rand.bytes(1 + rand.int(16)), ...b.slice(i)]);
    }
    case 5: {
      const i = at();
      return Uint8Array.from([...b.slice(0, i), ...b.slice(i + 1 + rand.int(16))]);
    }
    case 6: {
      const other = samples[rand.int(samples.length)]!;
      return Uint8Array.from([
        ...b.slice(0, at()),
        ...other.slice(rand.int(Math.max(1, other.length))),
      ]);
    }
    case 7:
      return Uint8Array.from([b[0] ?? 1, b[1] ?? 1, ...rand.bytes(rand.int(300))]);
    default:
      return rand.bytes(rand.int(200));
  }
}

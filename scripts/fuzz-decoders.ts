// Runs the decoder fuzzer on demand: bun scripts/fuzz-decoders.ts [cases=100000] [seed]
import { fuzzDecoders } from "../tests/fuzz/fuzzer.ts";

const cases = Number(process.argv[2] ?? 100_000);
const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
const started = performance.now();
const { failures, accepted } = fuzzDecoders(cases, seed);
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `fuzz: ${cases} cases, seed ${seed}, ${accepted} accepted, ${failures.length} failures, ${seconds} s`,
);
for (const f of failures.slice(0, 10))
  console.log(`  ${f.target}: ${f.error}\n    input ${f.input}`);
process.exit(failures.length === 0 ? 0 : 1);

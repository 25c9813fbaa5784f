// The messaging load generator: runs one scenario against one target and prints its result as
// one JSON line. Run it pinned to its own core; it pins the server it starts to core 0.
//   taskset -c 1 bun bench/messaging/load.ts TARGET SCENARIO [key=value ...]
//   TARGET: ceiling | ceiling-worker      SCENARIO: throughput | fanout | catchup | idle
// bench/messaging/run.ts runs every scenario with the defaults below and prints a report.
import { ceilingTarget } from "./ceiling-target.ts";
import { parleyTarget } from "./parley-target.ts";
import { catchUp } from "./scenarios/catchup.ts";
import { fanout } from "./scenarios/fanout.ts";
import { idle } from "./scenarios/idle.ts";
import { throughput } from "./scenarios/throughput.ts";
import type { Target } from "./target.ts";

/** Targets by name; a Parley target is added here. */
export const TARGETS: Record<string, () => Target> = {
  ceiling: () => ceilingTarget(),
  "ceiling-worker": () => ceilingTarget(true),
  parley: () => parleyTarget(),
};

/** Each scenario with its default options (every one can be overridden as key=value). */
export const SCENARIOS = {
  throughput: {
    defaults: { rate: 20_000, seconds: 10, warmup: 2, pairs: 100 },
    run: throughput,
  },
  fanout: { defaults: { members: 1_000, messages: 300, rate: 20 }, run: fanout },
  catchup: { defaults: { queued: 10_000, devices: 3 }, run: catchUp },
  idle: { defaults: { connections: 15_000, steps: 3 }, run: idle },
} as const;
export type ScenarioName = keyof typeof SCENARIOS;

if (import.meta.main) {
  const [targetName, scenarioName, ...pairs] = process.argv.slice(2);
  const makeTarget = TARGETS[targetName ?? ""];
  const scenario = SCENARIOS[scenarioName as ScenarioName];
  if (!makeTarget || !scenario)
    throw new Error(
      `usage: bun bench/messaging/load.ts ${Object.keys(TARGETS).join("|")} ` +
        `${Object.keys(SCENARIOS).join("|")} [key=value ...]`,
    );
  const options: Record<string, number> = { ...scenario.defaults };
  for (const pair of pairs) {
    const [key, value] = pair.split("=");
    if (!key || !(key in options) || !(Number(value) > 0))
      throw new Error(`unknown or bad option ${pair}; options: ${Object.keys(options)}`);
    options[key] = Number(value);
  }
  // biome-ignore lint/suspicious/noExplicitAny: each scenario checks its own option shape
  const result = await scenario.run(makeTarget(), options as any);
  console.log(JSON.stringify({ target: targetName, scenario: scenarioName, result }));
  process.exit(0);
}

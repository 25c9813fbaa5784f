// Type checks and lint are part of the suite, so `npm test` fails on them like on any bug.
import { expect, test } from "bun:test";
import { join } from "node:path";

const REPO = join(import.meta.dir, "..");
const bin = (name: string) => join(REPO, "node_modules", ".bin", name);

// protocol/ and sdk/ are checked alone, without Bun's or the DOM's types: runtime-neutral.
for (const project of [
  "tsconfig.json",
  "protocol/tsconfig.json",
  "sdk/tsconfig.json",
  "web/tsconfig.json",
]) {
  test(`typecheck ${project}`, () => {
    const out = Bun.spawnSync([bin("tsc"), "-p", project], { cwd: REPO });
    expect(out.stdout.toString() + out.stderr.toString()).toBe("");
    expect(out.exitCode).toBe(0);
  }, 120_000);
}

test("biome lint and format", () => {
  const out = Bun.spawnSync([bin("biome"), "check", "--error-on-warnings", "."], { cwd: REPO });
  const report = out.stdout.toString() + out.stderr.toString();
  expect(out.exitCode, report).toBe(0);
}, 60_000);

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "./load.ts";

/**
 * Creates the data directory if missing (mode 0700) and proves it is writable by creating
 * and removing a probe file. Returns its absolute path; throws ConfigError naming data_dir.
 */
export function prepareDataDir(dataDir: string, cwd = process.cwd()): string {
  const dir = resolve(cwd, dataDir);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const probe = join(dir, `.write-probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new ConfigError("data_dir", `'${dir}' is not a writable directory (${code})`);
  }
  return dir;
}

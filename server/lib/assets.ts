import { join } from "node:path";

/**
 * Files built into the binary with `bun build --compile --asset`: the web client
 * (web/dist) and the SQL migrations. `--asset ./web/dist` lands at /$bunfs/root/dist (the
 * basename), so paths are resolved here and nowhere else.
 */
const EMBEDDED_ROOT = "/$bunfs/root";
const REPO_ROOT = join(import.meta.dir, "..", "..");

const ASSET_DIRS = {
  web: { embedded: "dist", source: "web/dist" },
  migrations: { embedded: "migrations", source: "migrations" },
} as const;

export type AssetDir = keyof typeof ASSET_DIRS;

/** Absolute directory of an asset set, inside the binary or in the source tree. */
export function assetDir(name: AssetDir): string {
  const dir = ASSET_DIRS[name];
  return Bun.isStandaloneExecutable
    ? join(EMBEDDED_ROOT, dir.embedded)
    : join(REPO_ROOT, dir.source);
}

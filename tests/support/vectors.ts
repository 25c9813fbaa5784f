import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** `../shared/vectors/` beside the repository (CI has it there). */
export const VECTORS_DIR = join(import.meta.dir, "..", "..", "..", "shared", "vectors");

export interface WycheproofTest {
  tcId: number;
  comment?: string;
  flags: string[];
  result: "valid" | "invalid" | "acceptable";
  [field: string]: unknown;
}
export interface WycheproofGroup {
  tests: WycheproofTest[];
  [field: string]: unknown;
}

/**
 * Loads a Wycheproof file. When the folder is missing the test fails with a clear message
 * (never passes silently): conformance cannot be claimed without the vectors.
 */
export function wycheproof(file: string): WycheproofGroup[] {
  const path = join(VECTORS_DIR, "wycheproof", file);
  if (!existsSync(path)) {
    throw new Error(
      `Wycheproof vectors not found at ${path}: the conformance tests need ../shared/vectors beside the repository`,
    );
  }
  return (JSON.parse(readFileSync(path, "utf8")) as { testGroups: WycheproofGroup[] }).testGroups;
}

export const hex = (s: unknown) => Uint8Array.from(Buffer.from(String(s ?? ""), "hex"));

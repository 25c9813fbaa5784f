import { stringify } from "smol-toml";
import type { LoadedConfig } from "./load.ts";
import { CONFIG_KEYS, type ConfigKey } from "./schema.ts";

const MASK = "********";

/** The effective configuration as TOML, secrets masked, each key with where it came from. */
export function renderEffectiveConfig(loaded: LoadedConfig): string {
  const lines = ["# Effective Parley configuration (secrets masked)."];
  if (loaded.file) lines.push(`# Config file: ${loaded.file}`);
  return renderKeys(lines, (k) => {
    const value = lookup(loaded.config, k.path);
    const shown = k.secret && value !== "" ? MASK : value;
    return { value: shown, before: [], after: `  # ${loaded.sources.get(k.key)}` };
  });
}

/** deploy/parley.example.toml: every key with its default, explained (kept in sync by a test). */
export function renderExampleConfig(): string {
  const header = [
    "# Parley server configuration: every key, with its default value.",
    "#",
    "# Precedence: defaults < this file (parley serve --config FILE, or PARLEY_CONFIG=FILE)",
    "#             < environment variables PARLEY_* < command-line flags.",
    "# Each key names its environment variable and flag. An unknown key is an error.",
    "# See the effective configuration with: parley serve --print-config",
    "#",
    "# This file is generated from server/config/schema.ts by `npm run gen:config`.",
  ];
  return renderKeys(header, (k) => ({
    value: k.schema.default,
    before: [...wrap(k.description, 88).map((l) => `# ${l}`), `# env ${k.env}, flag --${k.flag}`],
    after: "",
  }));
}

function renderKeys(
  lines: string[],
  describe: (k: ConfigKey) => { value: unknown; before: string[]; after: string },
): string {
  let section = "";
  for (const k of CONFIG_KEYS) {
    const keySection = k.path.length > 1 ? k.path[0]! : "";
    if (keySection !== section) {
      section = keySection;
      lines.push("", `[${section}]`);
    }
    const { value, before, after } = describe(k);
    if (before.length > 0) lines.push("");
    lines.push(...before, `${k.path.at(-1)} = ${tomlValue(value)}${after}`);
  }
  return `${lines.join("\n")}\n`;
}

function tomlValue(value: unknown): string {
  // smol-toml renders a table; take the right-hand side of its single line.
  return stringify({ v: value }).trim().replace(/^v = /, "");
}

function lookup(obj: unknown, path: string[]): unknown {
  return path.reduce((node, part) => (node as Record<string, unknown>)[part], obj);
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/)) {
    if (line && line.length + word.length + 1 > width) {
      out.push(line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) out.push(line);
  return out;
}

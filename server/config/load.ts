import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { TSchema } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { closest, distance } from "fastest-levenshtein";
import { parse as parseToml } from "smol-toml";
import { checkConfigRules } from "./rules.ts";
import {
  CONFIG_KEYS,
  CONFIG_SECTIONS,
  type Config,
  type ConfigKey,
  OTHER_PARLEY_ENV,
} from "./schema.ts";

/** A configuration problem, reported as one line naming the key; `parley` exits 2. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`${key}: ${detail}`);
    this.name = "ConfigError";
  }
}

/** Where the effective value of a key came from. */
export type ConfigSource = "default" | `file ${string}` | `env ${string}` | `flag --${string}`;

export interface LoadedConfig {
  config: Config;
  sources: ReadonlyMap<string, ConfigSource>;
  /** Absolute path of the config file read, if any. */
  file: string | undefined;
}

export interface LoadConfigInput {
  /** Path of a TOML file (`--config`), else `PARLEY_CONFIG` from `env`, else none. */
  file?: string | undefined;
  env?: Record<string, string | undefined>;
  /** Flag values as given on the command line, by flag name (`database-url`). */
  flags?: Record<string, string | undefined>;
  cwd?: string;
}

/**
 * Builds the effective configuration: defaults < TOML file < `PARLEY_*` environment < flags.
 * Throws ConfigError for an unknown key, a value of the wrong type or out of range, or a
 * rule broken across keys. Does not touch the data directory (see checkDataDir).
 */
export function loadConfig(input: LoadConfigInput = {}): LoadedConfig {
  const env = input.env ?? {};
  const cwd = input.cwd ?? process.cwd();
  const values = new Map<string, unknown>();
  const sources = new Map<string, ConfigSource>();
  for (const k of CONFIG_KEYS) {
    values.set(k.key, structuredClone(k.schema.default));
    sources.set(k.key, "default");
  }

  const fileArg = input.file ?? env.PARLEY_CONFIG;
  const file = fileArg ? resolve(cwd, fileArg) : undefined;
  if (file) {
    for (const [key, value] of readTomlFile(file)) {
      values.set(key, value);
      sources.set(key, `file ${file}`);
    }
  }

  const knownEnv = new Set<string>([...CONFIG_KEYS.map((k) => k.env), ...OTHER_PARLEY_ENV]);
  for (const name of Object.keys(env)) {
    if (name.startsWith("PARLEY_") && !knownEnv.has(name) && env[name] !== undefined) {
      throw new ConfigError(name, `unknown environment variable${suggest(name, [...knownEnv])}`);
    }
  }
  for (const k of CONFIG_KEYS) {
    const raw = env[k.env];
    if (raw === undefined) continue;
    values.set(k.key, coerceString(k, raw, `env ${k.env}`));
    sources.set(k.key, `env ${k.env}`);
  }

  for (const [flag, raw] of Object.entries(input.flags ?? {})) {
    if (raw === undefined) continue;
    const k = CONFIG_KEYS.find((c) => c.flag === flag);
    if (!k) throw new ConfigError(`--${flag}`, "unknown option");
    values.set(k.key, coerceString(k, raw, `flag --${flag}`));
    sources.set(k.key, `flag --${flag}`);
  }

  for (const k of CONFIG_KEYS) {
    const value = values.get(k.key);
    if (!Value.Check(k.schema, value)) {
      throw new ConfigError(
        k.key,
        `${expectation(k.schema)} (got ${show(value)} from ${sources.get(k.key)})`,
      );
    }
  }

  const config = nest(values) as Config;
  checkConfigRules(config, (key, detail) => {
    throw new ConfigError(key, `${detail} (from ${sources.get(key) ?? "default"})`);
  });
  return { config, sources, file };
}

function readTomlFile(file: string): Map<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new ConfigError("config", `cannot read ${file}: ${errorCode(err)}`);
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const line = (err as { line?: number }).line;
    const where = line ? ` line ${line}` : "";
    const reason = String((err as Error).message).split("\n")[0];
    throw new ConfigError("config", `${file}${where} is not valid TOML: ${reason}`);
  }
  const out = new Map<string, unknown>();
  const keys = new Map(CONFIG_KEYS.map((k) => [k.key, k]));
  const walk = (obj: Record<string, unknown>, prefix: string[]) => {
    for (const [name, value] of Object.entries(obj)) {
      const path = [...prefix, name];
      const dotted = path.join(".");
      if (prefix.length === 0 && CONFIG_SECTIONS.has(name)) {
        if (!isPlainObject(value)) {
          throw new ConfigError(dotted, `must be a table ([${name}]) in ${file}`);
        }
        walk(value, path);
      } else if (keys.has(dotted)) {
        out.set(dotted, value instanceof Date ? value.toISOString() : value);
      } else {
        throw new ConfigError(
          dotted,
          `unknown key in ${file}${suggest(dotted, [...keys.keys(), ...CONFIG_SECTIONS])}`,
        );
      }
    }
  };
  walk(doc, []);
  return out;
}

function coerceString(k: ConfigKey, raw: string, source: string): unknown {
  const t = k.schema.type;
  if (t === "integer") {
    const s = raw.trim().replaceAll("_", "");
    if (!/^-?\d+$/.test(s)) {
      throw new ConfigError(k.key, `${expectation(k.schema)} (got ${show(raw)} from ${source})`);
    }
    return Number(s);
  }
  if (t === "boolean") {
    const v = raw.trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    throw new ConfigError(k.key, `${expectation(k.schema)} (got ${show(raw)} from ${source})`);
  }
  if (t === "array") {
    return raw
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  return raw;
}

/** What a schema accepts, in words, for error messages. */
function expectation(schema: TSchema): string {
  if (schema.type === "integer") {
    return `must be an integer from ${schema.minimum} to ${schema.maximum}`;
  }
  if (schema.type === "array") return "must be a list of strings";
  if (schema.type === "boolean") return "must be true or false";
  if (Array.isArray(schema.anyOf)) {
    return `must be one of ${schema.anyOf.map((s: TSchema) => String(s.const)).join(", ")}`;
  }
  return "must be a string";
}

function nest(values: Map<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of values) {
    const path = key.split(".");
    let node = out;
    for (const part of path.slice(0, -1)) {
      node[part] ??= {};
      node = node[part] as Record<string, unknown>;
    }
    node[path.at(-1)!] = value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

function show(value: unknown): string {
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function errorCode(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}

/** ", did you mean 'x'?" for a near miss (edit distance ≤ 2), else "". */
function suggest(word: string, candidates: string[]): string {
  const best = closest(word, candidates);
  return distance(word, best) <= 2 ? `, did you mean '${best}'?` : "";
}

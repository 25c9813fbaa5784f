import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { accountKeys } from "./sections/accounts.ts";
import { coreKeys } from "./sections/core.ts";
import { limitKeys } from "./sections/limits.ts";
import { messagingKeys } from "./sections/messaging.ts";

export * from "./sections/core.ts";

/**
 * The whole server configuration. Keys are the TOML keys; the environment variable is
 * `PARLEY_` + the key path in upper case joined by `_` (database.url → PARLEY_DATABASE_URL)
 * and the flag is the path joined by `-` (database.url → --database-url).
 * A key marked `secret` is masked by `--print-config`. The sections live in sections/.
 */
export const ConfigSchema = Type.Object({
  ...coreKeys,
  ...accountKeys,
  ...limitKeys,
  ...messagingKeys,
});

export type Config = Static<typeof ConfigSchema>;

/** One settable key of the configuration. */
export interface ConfigKey {
  /** Dotted TOML path, e.g. `database.url`. */
  key: string;
  path: string[];
  env: string;
  flag: string;
  schema: TSchema;
  secret: boolean;
  description: string;
}

function collectKeys(schema: TSchema, prefix: string[]): ConfigKey[] {
  if (schema.type === "object" && schema.properties) {
    return Object.entries(schema.properties as Record<string, TSchema>).flatMap(([name, child]) =>
      collectKeys(child, [...prefix, name]),
    );
  }
  return [
    {
      key: prefix.join("."),
      path: prefix,
      env: `PARLEY_${prefix.join("_").toUpperCase()}`,
      flag: prefix.join("-").replaceAll("_", "-"),
      schema,
      secret: schema.secret === true,
      description: String(schema.description ?? ""),
    },
  ];
}

/** Every settable key, in schema order. */
export const CONFIG_KEYS: readonly ConfigKey[] = collectKeys(ConfigSchema, []);

/** The sections (tables) of the TOML file. */
export const CONFIG_SECTIONS: ReadonlySet<string> = new Set(
  CONFIG_KEYS.filter((k) => k.path.length > 1).map((k) => k.path[0]!),
);

/** Environment variables that are not config keys but are read by `parley`. */
export const OTHER_PARLEY_ENV = ["PARLEY_CONFIG"] as const;

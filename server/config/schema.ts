import { type Static, type TLiteral, type TSchema, type TUnion, Type } from "@sinclair/typebox";

// Defaults are named constants so code, docs and the example config agree.
export const DEFAULT_DATA_DIR = "./data";
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_PORT = 8080;
/** Largest JSON request body. A group message with ~200 KB of key headers must fit. */
export const DEFAULT_MAX_BODY_BYTES = 2 * 1024 * 1024;
/** The seed's API timeout: a JSON API handler that takes longer answers 503 `timeout`. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 5_000;
/** How long SIGTERM waits for in-flight requests before closing connections. */
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export const LOG_FORMATS = ["auto", "json", "pretty"] as const;

const secret = { secret: true } as const;

const literalUnion = <T extends readonly string[]>(values: T, options: object) =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;

/**
 * The whole server configuration. Keys are the TOML keys; the environment variable is
 * `PARLEY_` + the key path in upper case joined by `_` (database.url → PARLEY_DATABASE_URL)
 * and the flag is the path joined by `-` (database.url → --database-url).
 * A key marked `secret` is masked by `--print-config`.
 */
export const ConfigSchema = Type.Object({
  data_dir: Type.String({
    default: DEFAULT_DATA_DIR,
    description:
      "Where Parley keeps its database and files. Created (mode 0700) if missing; must be writable.",
  }),
  host: Type.String({
    default: DEFAULT_HOST,
    description:
      "Address to listen on. Use 127.0.0.1 behind a reverse proxy on the same host, :: for IPv6.",
  }),
  port: Type.Integer({
    minimum: 0,
    maximum: 65535,
    default: DEFAULT_PORT,
    description: "TCP port for HTTP(S) and WebSocket. 0 picks a free port (tests).",
  }),
  public_url: Type.String({
    default: "",
    description:
      "The URL people use to reach this server (https://chat.example.org), used in links it prints. Empty: derived from host and port.",
  }),
  trusted_proxies: Type.Array(Type.String(), {
    default: [],
    description:
      "Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For is believed, so client addresses and rate limits stay right. Comma-separated in the environment.",
  }),
  http: Type.Object(
    {
      max_body_bytes: Type.Integer({
        minimum: 1024,
        maximum: 64 * 1024 * 1024,
        default: DEFAULT_MAX_BODY_BYTES,
        description: "Largest request body accepted by JSON API routes, in bytes (413 above).",
      }),
      request_timeout_ms: Type.Integer({
        minimum: 50,
        maximum: 600_000,
        default: DEFAULT_REQUEST_TIMEOUT_MS,
        description:
          "A JSON API request that takes longer answers 503 `timeout`. Streaming transfers, the WebSocket and admin operations are exempt.",
      }),
      shutdown_grace_ms: Type.Integer({
        minimum: 0,
        maximum: 600_000,
        default: DEFAULT_SHUTDOWN_GRACE_MS,
        description:
          "On SIGTERM, how long in-flight requests may finish before connections are closed.",
      }),
    },
    { default: {} },
  ),
  tls: Type.Object(
    {
      cert: Type.String({
        default: "",
        description:
          "PEM certificate chain file. Set cert and key to serve HTTPS directly; leave both empty behind a TLS-terminating proxy.",
      }),
      key: Type.String({ default: "", description: "PEM private key file for tls.cert." }),
    },
    { default: {} },
  ),
  database: Type.Object(
    {
      url: Type.String({
        default: "",
        description:
          "Empty: embedded SQLite at <data_dir>/parley.db. libsql://… or http(s)://…: a remote libSQL server (sqld, Turso) shared by several nodes.",
      }),
      auth_token: Type.String({
        default: "",
        ...secret,
        description: "Auth token for a remote libSQL database.",
      }),
    },
    { default: {} },
  ),
  log: Type.Object(
    {
      level: literalUnion(LOG_LEVELS, {
        default: "info",
        description: "Least severe level written: debug, info, warn or error.",
      }),
      format: literalUnion(LOG_FORMATS, {
        default: "auto",
        description:
          "json: one JSON object per line. pretty: for people. auto: pretty on a terminal, json otherwise (systemd, files).",
      }),
    },
    { default: {} },
  ),
  metrics: Type.Object(
    {
      token: Type.String({
        default: "",
        ...secret,
        description:
          "Bearer token for GET /metrics. Without it, metrics are served only to direct loopback requests.",
      }),
    },
    { default: {} },
  ),
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

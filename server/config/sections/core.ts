import { Type } from "@sinclair/typebox";
import { literalUnion, secret } from "./helpers.ts";

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

/** Where the server listens and keeps its data; HTTP, TLS, database, logs, metrics. */
export const coreKeys = {
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
};

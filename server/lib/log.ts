import { createConsola, LogLevels, type LogObject } from "consola";
import { colors } from "consola/utils";
import { describeError } from "./errors.ts";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

/**
 * Structured logger. Messages are constant strings; variable parts go in fields.
 * Never pass plaintext, keys, tokens or ciphertext (fields with such names are redacted
 * anyway, as a second line of defence). `error` is for bugs only.
 */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface LoggerOptions {
  level: LogLevel;
  /** `auto`: pretty on a terminal, JSON otherwise. */
  format: "auto" | "json" | "pretty";
  /** Where lines go; stderr by default, so stdout stays for command output. */
  write?: (line: string) => void;
  isTTY?: boolean;
}

const REDACTED_FIELDS = new Set([
  "authorization",
  "ciphertext",
  "cookie",
  "password",
  "privatekey",
  "secret",
  "ticket",
  "token",
]);

/** Creates the process logger. */
export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const isTTY = options.isTTY ?? process.stderr.isTTY === true;
  const json = options.format === "json" || (options.format === "auto" && !isTTY);
  const consola = createConsola({
    level: LogLevels[options.level],
    // Every request line is distinct information; never collapse repeats.
    throttle: 0,
    reporters: [{ log: (obj) => write(json ? jsonLine(obj) : prettyLine(obj, isTTY)) }],
  });
  const make = (bound: LogFields): Logger => ({
    debug: (msg, fields) => consola.debug(msg, { ...bound, ...fields }),
    info: (msg, fields) => consola.info(msg, { ...bound, ...fields }),
    warn: (msg, fields) => consola.warn(msg, { ...bound, ...fields }),
    error: (msg, fields) => consola.error(msg, { ...bound, ...fields }),
    child: (fields) => make({ ...bound, ...fields }),
  });
  return make({});
}

function levelName(obj: LogObject): LogLevel {
  if (obj.level <= LogLevels.error) return "error";
  if (obj.level <= LogLevels.warn) return "warn";
  if (obj.level <= LogLevels.info) return "info";
  return "debug";
}

function fieldsOf(obj: LogObject): LogFields {
  const fields = (obj.args[1] ?? {}) as LogFields;
  const out: LogFields = {};
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out[k] = REDACTED_FIELDS.has(k.toLowerCase()) ? "[redacted]" : toLoggable(v);
  }
  return out;
}

function toLoggable(v: unknown): unknown {
  return v instanceof Error ? describeError(v) : v;
}

function jsonLine(obj: LogObject): string {
  return `${JSON.stringify({
    time: obj.date.toISOString(),
    level: levelName(obj),
    msg: String(obj.args[0]),
    ...fieldsOf(obj),
  })}\n`;
}

const LEVEL_STYLE: Record<LogLevel, (s: string) => string> = {
  debug: colors.gray,
  info: colors.cyan,
  warn: colors.yellow,
  error: colors.red,
};

function prettyLine(obj: LogObject, color: boolean): string {
  const level = levelName(obj);
  const label = level.toUpperCase().padEnd(5);
  const time = obj.date.toISOString().slice(11, 19);
  const fields = Object.entries(fieldsOf(obj))
    .map(([k, v]) => {
      if (typeof v === "object" && v !== null && "stack" in v) return `\n${String(v.stack)}`;
      return `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
    })
    .join(" ");
  const head = color ? `${colors.dim(time)} ${LEVEL_STYLE[level](label)}` : `${time} ${label}`;
  return `${head} ${String(obj.args[0])}${fields ? ` ${color ? colors.dim(fields) : fields}` : ""}\n`;
}

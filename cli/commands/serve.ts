import { type ArgsDef, defineCommand } from "citty";
import { prepareDataDir } from "../../server/config/data-dir.ts";
import { ConfigError, loadConfig } from "../../server/config/load.ts";
import { renderEffectiveConfig } from "../../server/config/render.ts";
import { CONFIG_KEYS } from "../../server/config/schema.ts";
import { createLogger } from "../../server/lib/log.ts";
import { startServer } from "../../server/main.ts";
import { SchemaMismatchError } from "../../server/store/migrate.ts";
import { CommandError, UsageError } from "../run.ts";
import { VERSION } from "../version.ts";

// Every config key is also a flag (--port, --data-dir, --database-url, …).
const configFlags: ArgsDef = Object.fromEntries(
  CONFIG_KEYS.map((k) => [
    k.flag,
    { type: "string", description: `${firstSentence(k.description)} [${k.env}]`, valueHint: k.key },
  ]),
);

/** `parley serve`: the server (HTTP API, WebSocket, web client) until SIGTERM or SIGINT. */
export const serveCommand = defineCommand({
  meta: { name: "serve", description: "Run the Parley server" },
  args: {
    config: {
      type: "string",
      alias: "c",
      description: "TOML config file [PARLEY_CONFIG]",
      valueHint: "file",
    },
    "print-config": {
      type: "boolean",
      description: "Print the effective configuration (secrets masked) and exit",
    },
    ...configFlags,
  },
  async run({ args }) {
    const flags = Object.fromEntries(
      CONFIG_KEYS.map((k) => [k.flag, args[k.flag] as string | undefined]),
    );
    const loaded = mapErrors(() =>
      loadConfig({ file: args.config as string | undefined, env: process.env, flags }),
    );
    if (args["print-config"]) {
      process.stdout.write(renderEffectiveConfig(loaded));
      return;
    }
    const { config } = loaded;
    const dataDir = mapErrors(() => prepareDataDir(config.data_dir));
    const log = createLogger({ level: config.log.level, format: config.log.format });
    // Signals are caught before the server starts: one that arrives while it starts (after
    // it logged "listening", say) stops it cleanly once started, instead of killing it.
    let signalled: ((signal: string) => void) | undefined;
    const received = new Promise<string>((resolve) => {
      signalled = resolve;
    });
    process.once("SIGTERM", () => signalled?.("SIGTERM"));
    process.once("SIGINT", () => signalled?.("SIGINT"));
    const server = await startServer({ config, dataDir, log, version: VERSION }).catch((err) => {
      throw mapStartError(err, config.host, config.port);
    });
    await server.shutdown(await received);
  },
});

function firstSentence(text: string): string {
  return text.split(/(?<=\.) /)[0] ?? text;
}

function mapErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`config error: ${err.message}`);
    throw err;
  }
}

function mapStartError(err: unknown, host: string, port: number): Error {
  if (err instanceof SchemaMismatchError) return new CommandError(err.message);
  const code = (err as { code?: string }).code;
  if (code === "EADDRINUSE") {
    return new CommandError(
      `port ${port} on ${host} is already in use; choose another with --port or PARLEY_PORT`,
    );
  }
  if (code === "EACCES") {
    return new CommandError(
      `not allowed to listen on ${host}:${port} (ports below 1024 need privileges)`,
    );
  }
  return err instanceof Error ? err : new Error(String(err));
}

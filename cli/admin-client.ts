import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { isErrorCode, ParleyError } from "../protocol/errors.ts";
import { ConfigError, loadConfig } from "../server/config/load.ts";
import { CommandError, UsageError } from "./run.ts";

/**
 * The admin API client: HTTP over the server's Unix socket (mode 0600 in the data directory).
 * The socket path comes from --socket, else the server's configuration (the same file,
 * PARLEY_* variables and defaults as `parley serve`: admin.socket or <data_dir>/admin.sock).
 */
export function adminSocketPath(args: {
  socket?: string;
  config?: string;
  "data-dir"?: string;
}): string {
  if (args.socket) return resolve(args.socket);
  try {
    const { config } = loadConfig({
      file: args.config,
      env: process.env,
      flags: { "data-dir": args["data-dir"] },
    });
    return config.admin.socket
      ? resolve(config.admin.socket)
      : join(resolve(config.data_dir), "admin.sock");
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(`config error: ${err.message}`);
    throw err;
  }
}

export async function adminRequest<T>(
  socket: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  if (!existsSync(socket)) {
    throw new CommandError(
      `no admin socket at ${socket}: is parley serve running (with the same data directory)?`,
    );
  }
  let response: Response;
  try {
    response = await fetch(`http://parley.admin/admin${path}`, {
      unix: socket,
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new CommandError(
      code === "EACCES"
        ? `not allowed to open ${socket} (run as the server's user)`
        : `cannot reach the server at ${socket} (${code ?? err})`,
    );
  }
  if (response.status === 204) return undefined as T;
  const json = (await response.json().catch(() => undefined)) as
    | { code?: string; message?: string }
    | undefined;
  if (!response.ok) {
    if (json && isErrorCode(json.code))
      throw new CommandError(json.message ?? new ParleyError(json.code).message);
    throw new CommandError(`the server answered HTTP ${response.status}`);
  }
  return json as T;
}

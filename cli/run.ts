import {
  type ArgsDef,
  type CommandDef,
  parseArgs,
  renderUsage,
  runCommand,
  type SubCommandsDef,
} from "citty";
import { closest, distance } from "fastest-levenshtein";

/** Exit codes of every `parley` command. */
export const EXIT = { ok: 0, error: 1, usage: 2 } as const;

/** A mistake in how the command was called (or configured): exit 2, one line. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** An error whose message is complete and safe to print as is: exit 1, one line. */
export class CommandError extends Error {
  override name = "CommandError";
}

type AnyCommand = CommandDef<ArgsDef>;

async function resolve<T>(value: T | (() => T | Promise<T>) | Promise<T> | undefined) {
  return typeof value === "function" ? await (value as () => T | Promise<T>)() : await value;
}

/** The command a list of arguments names, its parent chain, and the arguments left for it. */
async function resolveCommand(root: AnyCommand, rawArgs: string[]) {
  let cmd = root;
  let args = rawArgs;
  const names: string[] = [];
  const parents: AnyCommand[] = [];
  for (;;) {
    const subs = (await resolve(cmd.subCommands)) as SubCommandsDef | undefined;
    const at = args.findIndex((a) => !a.startsWith("-"));
    if (!subs || at === -1) break;
    const name = args[at]!;
    const sub = subs[name];
    if (!sub) {
      const options = Object.keys(subs);
      const near = closest(name, options);
      const hint = distance(name, near) <= 2 ? `; did you mean '${near}'?` : "";
      throw new UsageError(`unknown command '${name}'${hint} (try --help)`);
    }
    parents.push(cmd);
    names.push(name);
    cmd = (await resolve(sub)) as AnyCommand;
    args = [...args.slice(0, at), ...args.slice(at + 1)];
  }
  return { cmd, parent: parents.at(-1), args, names };
}

/** Rejects options the command does not define and stray positional arguments. */
async function checkArgs(cmd: AnyCommand, args: string[], label: string) {
  const defs = ((await resolve(cmd.args)) ?? {}) as ArgsDef;
  const known = new Set<string>(["_"]);
  let positionals = 0;
  for (const [name, def] of Object.entries(defs)) {
    if (def.type === "positional") positionals++;
    const aliases = (def as { alias?: string | string[] }).alias ?? [];
    for (const n of [name, ...[aliases].flat()]) {
      known.add(n);
      known.add(n.replace(/-([a-z])/g, (_: string, c: string) => c.toUpperCase()));
    }
  }
  const parsed = parseArgs(args, defs);
  for (const key of Object.keys(parsed)) {
    if (known.has(key)) continue;
    const flags = Object.keys(defs).filter((n) => defs[n]!.type !== "positional");
    const near = flags.length > 0 ? closest(key, flags) : "";
    const hint = near && distance(key, near) <= 2 ? `; did you mean --${near}?` : "";
    throw new UsageError(`unknown option '--${key}' for '${label}'${hint}`);
  }
  if (parsed._.length > positionals) {
    throw new UsageError(`unexpected argument '${parsed._[positionals]}' for '${label}'`);
  }
}

/**
 * Runs the CLI and exits: 0 ok, 1 error, 2 usage or configuration error. Errors are one
 * line on stderr, never a stack trace.
 */
export async function run(root: AnyCommand, rawArgs: string[], version: string): Promise<never> {
  const rootName = (await resolve(root.meta))?.name ?? "parley";
  try {
    if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
      console.log(version);
      process.exit(EXIT.ok);
    }
    const { cmd, parent, args, names } = await resolveCommand(root, rawArgs);
    const label = [rootName, ...names].join(" ");
    if (args.includes("--help") || args.includes("-h")) {
      console.log(`${await renderUsage(cmd, parent)}\n`);
      process.exit(EXIT.ok);
    }
    if (!cmd.run) {
      console.error(`${await renderUsage(cmd, parent)}\n`);
      process.exit(EXIT.usage);
    }
    await checkArgs(cmd, args, label);
    await runCommand(cmd, { rawArgs: args });
    process.exit(EXIT.ok);
  } catch (err) {
    const { message, code } = describeFailure(err);
    console.error(`${rootName}: ${message}`);
    process.exit(code);
  }
}

function describeFailure(err: unknown): { message: string; code: number } {
  if (err instanceof UsageError) return { message: err.message, code: EXIT.usage };
  if (err instanceof Error && err.name === "CLIError") {
    return { message: err.message, code: EXIT.usage };
  }
  if (err instanceof Error) return { message: err.message, code: EXIT.error };
  return { message: String(err), code: EXIT.error };
}

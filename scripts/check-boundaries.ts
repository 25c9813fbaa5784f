/**
 * Import-boundary check (DESIGN.md "Layout"): which folder may import which. Runs in the
 * test suite (scripts/check-boundaries.test.ts) and as `npm run check:boundaries`.
 * Type-only imports count too: a layer must not even know another's types.
 * Test files, tests/, scripts/ and bench/ are not product code and may import anything.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

export interface Violation {
  file: string;
  line: number;
  specifier: string;
  rule: string;
}

/** Packages a runtime-neutral layer may use (no bun:, node:, DOM-bound or server packages). */
const PROTOCOL_PACKAGES = [
  "@noble/hashes",
  "@noble/curves",
  "@noble/ciphers",
  "@noble/post-quantum",
  "@sinclair/typebox",
];
const WEB_PACKAGES = ["solid-js", "vite", "vite-plugin-solid"];

type Check = (target: Target) => string | undefined;

interface Target {
  /** Repository-relative path of the imported file, for relative imports. */
  path?: string;
  /** Package name (or `bun:x` / `node:x`), for bare imports. */
  pkg?: string;
  from: string;
}

const under = (t: Target, ...dirs: string[]) =>
  t.path !== undefined && dirs.some((d) => t.path!.startsWith(d));
const pkgIn = (t: Target, list: string[]) =>
  t.pkg !== undefined && list.some((p) => t.pkg === p || t.pkg!.startsWith(`${p}/`));
const isRuntimeModule = (t: Target) => t.pkg !== undefined && /^(bun|node):/.test(t.pkg);

/** The rules, first matching `from` prefix wins. Each returns a reason when it forbids. */
const RULES: [string, Check][] = [
  [
    "protocol/",
    (t) =>
      under(t, "protocol/") || pkgIn(t, PROTOCOL_PACKAGES)
        ? undefined
        : "protocol/ is runtime-neutral: it may import only protocol/, @noble/* and TypeBox",
  ],
  [
    "sdk/",
    (t) =>
      under(t, "sdk/", "protocol/") || pkgIn(t, PROTOCOL_PACKAGES)
        ? undefined
        : "sdk/ is runtime-neutral: it may import only sdk/ and protocol/",
  ],
  [
    "web/",
    (t) =>
      under(t, "web/", "sdk/", "protocol/") || pkgIn(t, [...PROTOCOL_PACKAGES, ...WEB_PACKAGES])
        ? undefined
        : "web/ may import only web/, sdk/, protocol/ and browser packages",
  ],
  [
    "cli/commands/serve.ts",
    (t) => (under(t, "web/", "bench/") ? "cli/ may not import web/ or bench/" : undefined),
  ],
  [
    "cli/",
    (t) =>
      under(t, "server/") && !under(t, "server/config/")
        ? "only cli/commands/serve.ts may import server/ (admin commands may read server/config/)"
        : under(t, "web/", "bench/")
          ? "cli/ may not import web/ or bench/"
          : undefined,
  ],
  ["server/main.ts", (t) => serverCommon(t)],
  // Wiring: builds stores and services and hands them to the routes, like main.ts.
  ["server/wiring/", (t) => serverCommon(t)],
  [
    "server/lib/",
    (t) =>
      serverCommon(t) ??
      (under(t, "server/") && !under(t, "server/lib/")
        ? "server/lib/ is a leaf: it imports no other server folder"
        : undefined),
  ],
  [
    "server/config/",
    (t) =>
      serverCommon(t) ??
      (under(t, "server/") && !under(t, "server/config/", "server/lib/")
        ? "server/config/ may import only server/lib/"
        : undefined),
  ],
  [
    "server/domain/",
    (t) =>
      serverCommon(t) ??
      (under(t, "server/") && !under(t, "server/domain/", "server/lib/")
        ? "server/domain/ may import only its own ports and server/lib/ (never store, http, ws)"
        : undefined),
  ],
  [
    "server/store/",
    (t) =>
      serverCommon(t) ??
      (under(t, "server/http/", "server/ws/", "server/rtc/", "server/bus/")
        ? "server/store/ implements domain ports; it may not import http, ws, rtc or bus"
        : under(t, "server/domain/") && !under(t, "server/domain/ports")
          ? "server/store/ may import only the domain's ports"
          : undefined),
  ],
  [
    "server/bus/",
    (t) =>
      serverCommon(t) ??
      (under(t, "server/http/", "server/ws/", "server/rtc/", "server/store/")
        ? "server/bus/ may not import http, ws, rtc or store"
        : undefined),
  ],
  [
    "server/",
    // http/, ws/, rtc/: handlers reach data only through domain services.
    (t) =>
      serverCommon(t) ??
      (under(t, "server/store/")
        ? "http/ws/rtc must go through server/domain/, never server/store/ (handlers cannot reach the database)"
        : undefined),
  ],
  ["migrations/", () => "migrations/ hold SQL only"],
];

function serverCommon(t: Target): string | undefined {
  if (under(t, "cli/", "web/", "sdk/", "bench/"))
    return "server/ may import only server/ and protocol/";
  return undefined;
}

/** Extra rule: drizzle transactions only inside the store's drivers (STACK-NOTES pitfall 5). */
const TRANSACTION_CALL = /\.transaction\(/;
const TRANSACTION_ALLOWED = new Set(["server/store/libsql.ts"]);

const IMPORT_PATTERNS = [
  /^\s*(?:import|export)\s+(?:type\s+)?[\s\S]*?\sfrom\s+["']([^"']+)["']/gm,
  /^\s*import\s+["']([^"']+)["']/gm,
  /\bimport\(\s*["']([^"']+)["']\s*\)/g,
];

function isTestFile(rel: string): boolean {
  return /\.test\.tsx?$/.test(rel);
}

function* sourceFiles(root: string, dir: string): Generator<string> {
  for (const name of readdirSync(join(root, dir))) {
    if (name === "node_modules" || name === "dist" || name.startsWith(".")) continue;
    const rel = dir ? `${dir}/${name}` : name;
    if (statSync(join(root, rel)).isDirectory()) yield* sourceFiles(root, rel);
    else if (/\.(ts|tsx)$/.test(name) && !name.endsWith(".d.ts")) yield rel;
  }
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

/** Checks every product source file under `root` (the repository, or a test fixture). */
export function checkBoundaries(root: string): Violation[] {
  const violations: Violation[] = [];
  const layers = ["protocol", "sdk", "server", "cli", "web/src", "migrations"];
  for (const layer of layers) {
    let files: string[];
    try {
      files = [...sourceFiles(root, layer)];
    } catch {
      continue;
    }
    for (const file of files) {
      if (isTestFile(file)) continue;
      const text = readFileSync(join(root, file), "utf8");
      const rule = RULES.find(([prefix]) => file === prefix || file.startsWith(prefix));
      for (const pattern of IMPORT_PATTERNS) {
        for (const match of text.matchAll(pattern)) {
          const specifier = match[1]!;
          const target: Target = { from: file };
          if (specifier.startsWith(".")) {
            target.path = relative(root, resolve(root, dirname(file), specifier));
          } else {
            target.pkg = specifier;
          }
          const line = lineOf(text, match.index ?? 0);
          const neutral =
            file.startsWith("protocol/") || file.startsWith("sdk/") || file.startsWith("web/");
          if (neutral && isRuntimeModule(target)) {
            violations.push({
              file,
              line,
              specifier,
              rule: `${file.split("/")[0]}/ is runtime-neutral: no bun: or node: modules`,
            });
            continue;
          }
          const reason = rule?.[1](target);
          if (reason) violations.push({ file, line, specifier, rule: reason });
        }
      }
      if (file.startsWith("server/") && !TRANSACTION_ALLOWED.has(file)) {
        const at = text.search(TRANSACTION_CALL);
        if (at !== -1) {
          violations.push({
            file,
            line: lineOf(text, at),
            specifier: ".transaction(",
            rule: "use Database.write(); drizzle transactions are sync-only on bun:sqlite",
          });
        }
      }
    }
  }
  return violations;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? join(import.meta.dir, ".."));
  const violations = checkBoundaries(root);
  for (const v of violations)
    console.error(`${v.file}:${v.line}: imports '${v.specifier}': ${v.rule}`);
  console.log(
    violations.length === 0
      ? "import boundaries: ok"
      : `import boundaries: ${violations.length} violation(s)`,
  );
  process.exit(violations.length === 0 ? 0 : 1);
}

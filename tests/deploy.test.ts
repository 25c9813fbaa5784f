// Checks of the deployment files in deploy/, the Dockerfile and the reverse-proxy examples.
// The systemd unit is checked with systemd-analyze (no running systemd needed); the image is
// not built here (no container engine in CI), only compared with the npm scripts.
import { afterAll, describe, expect, test } from "bun:test";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");
const read = (path: string) => readFileSync(join(ROOT, path), "utf8");

const UNIT = read("deploy/parley.service");
const EXAMPLE_CONFIG = read("deploy/parley.example.toml");
const INSTALL_SH = join(ROOT, "deploy/install.sh");

/** Measured with systemd 252 (Debian 12): 1.1 "OK". A small margin for other versions. */
const MAX_EXPOSURE = 1.3;

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "parley-deploy-"));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function run(cmd: string[], cwd = ROOT) {
  const p = Bun.spawnSync(cmd, {
    cwd,
    env: { ...process.env, SYSTEMD_COLORS: "0", SYSTEMD_PAGER: "cat", NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: p.exitCode, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

const mode = (path: string) => statSync(path).mode & 0o777;

/** Default of a config key in the generated example config (`key = 123`). */
function exampleNumber(key: string): number {
  const m = EXAMPLE_CONFIG.match(new RegExp(`^${key} = (\\d+)$`, "m"));
  if (!m) throw new Error(`${key} not found in deploy/parley.example.toml`);
  return Number(m[1]);
}

/** Directive name → values, from the unit's non-comment lines. */
function directives(unit: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of unit.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";") || line.startsWith("[")) {
      continue;
    }
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

// systemd-analyze is on the Debian test machines (package `systemd`). Outside CI a machine
// without it skips those tests; in CI its absence is a failure.
const SYSTEMD_ANALYZE = Bun.which("systemd-analyze");
const skipAnalyze = SYSTEMD_ANALYZE === null && !process.env.CI;
function systemdAnalyze(): string {
  if (SYSTEMD_ANALYZE === null) {
    throw new Error(
      "systemd-analyze not found: CI must install the Debian package `systemd` (apt-get install -y systemd)",
    );
  }
  return SYSTEMD_ANALYZE;
}

/** A copy of the unit in a temp dir whose ExecStart names an existing executable. */
function unitCopy(extra = ""): string {
  const dir = tempDir();
  const exe = join(dir, "parley");
  copyFileSync("/bin/true", exe);
  chmodSync(exe, 0o755);
  const unit = UNIT.replaceAll("/usr/local/bin/parley", exe).replace(
    "[Service]\n",
    `[Service]\n${extra}`,
  );
  const path = join(dir, "parley.service");
  writeFileSync(path, unit);
  return path;
}

/** Lines of `systemd-analyze verify` output about our unit (other units may warn too). */
function verifyProblems(path: string): { code: number; problems: string[] } {
  const r = run([systemdAnalyze(), "verify", path]);
  const problems = `${r.stdout}\n${r.stderr}`
    .split("\n")
    .filter((l) => l.includes("parley.service") || l.includes(path));
  return { code: r.code, problems };
}

describe("systemd unit (deploy/parley.service)", () => {
  test.skipIf(skipAnalyze)("systemd-analyze verify accepts it without warnings", () => {
    const { code, problems } = verifyProblems(unitCopy());
    expect(problems).toEqual([]);
    expect(code).toBe(0);
  });

  test.skipIf(skipAnalyze)("the verify check notices a broken directive", () => {
    const { problems } = verifyProblems(unitCopy("ProtectHome=maybe\n"));
    expect(problems.join("\n")).toContain("maybe");
  });

  test.skipIf(skipAnalyze)(`systemd-analyze security: exposure <= ${MAX_EXPOSURE}`, () => {
    const r = run([
      systemdAnalyze(),
      "security",
      "--offline=true",
      join(ROOT, "deploy/parley.service"),
    ]);
    const m = `${r.stdout}\n${r.stderr}`.match(/Overall exposure level for \S+: (\d+(?:\.\d+)?)/);
    if (!m) throw new Error(`no exposure level in:\n${r.stdout}\n${r.stderr}`);
    expect(Number(m[1])).toBeLessThanOrEqual(MAX_EXPOSURE);
  });

  const d = directives(UNIT);
  const expected: [string, string][] = [
    ["DynamicUser", "yes"],
    ["StateDirectory", "parley"],
    ["StateDirectoryMode", "0700"],
    ["ConfigurationDirectory", "parley"],
    ["Environment", "PARLEY_DATA_DIR=%S/parley"],
    ["LoadCredential", "parley.toml:/etc/parley/parley.toml"],
    ["ExecStart", "/usr/local/bin/parley serve --config %d/parley.toml"],
    ["Restart", "on-failure"],
    ["RestartPreventExitStatus", "2"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "yes"],
    ["PrivateTmp", "yes"],
    ["PrivateDevices", "yes"],
    ["NoNewPrivileges", "yes"],
    ["CapabilityBoundingSet", ""],
    ["AmbientCapabilities", ""],
    ["LimitNOFILE", "65536"],
    ["ProtectKernelTunables", "yes"],
    ["ProtectKernelModules", "yes"],
    ["ProtectKernelLogs", "yes"],
    ["ProtectControlGroups", "yes"],
    ["ProtectClock", "yes"],
    ["ProtectHostname", "yes"],
    ["RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"],
    ["RestrictNamespaces", "yes"],
    ["LockPersonality", "yes"],
    ["RestrictRealtime", "yes"],
    ["RestrictSUIDSGID", "yes"],
    ["SystemCallArchitectures", "native"],
    ["SystemCallFilter", "@system-service"],
    ["SystemCallFilter", "~@privileged @resources"],
    ["SystemCallErrorNumber", "EPERM"],
    ["UMask", "0077"],
    ["KillSignal", "SIGTERM"],
  ];
  test.each(expected)("has %s=%s", (key, value) => {
    expect(d.get(key) ?? []).toContain(value);
  });

  test("does not set MemoryDenyWriteExecute (Bun's JIT needs W+X memory)", () => {
    expect(d.has("MemoryDenyWriteExecute")).toBe(false);
  });

  test("TimeoutStopSec leaves room for the shutdown grace", () => {
    const m = (d.get("TimeoutStopSec")?.[0] ?? "").match(/^(\d+)s$/);
    expect(m).not.toBeNull();
    const graceSeconds = exampleNumber("shutdown_grace_ms") / 1000;
    expect(Number(m![1])).toBeGreaterThan(graceSeconds);
  });
});

describe("install script (deploy/install.sh)", () => {
  function fakeBinary(text = "parley 0.0.0-test"): string {
    const path = join(tempDir(), "parley");
    writeFileSync(path, `#!/bin/sh\necho '${text}'\n`, { mode: 0o644 });
    return path;
  }
  const install = (...args: string[]) => run(["sh", INSTALL_SH, ...args]);

  test.each([["sh"], ["bash"]])("%s -n accepts the syntax", (shell) => {
    const r = run([shell, "-n", INSTALL_SH]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });

  test("installs binary, unit and config with the right modes into --root", () => {
    const root = tempDir();
    const r = install("--binary", fakeBinary(), "--root", root);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const bin = join(root, "usr/local/bin/parley");
    const unit = join(root, "etc/systemd/system/parley.service");
    const config = join(root, "etc/parley/parley.toml");
    expect(mode(bin)).toBe(0o755);
    expect(mode(unit)).toBe(0o644);
    expect(mode(config)).toBe(0o640);
    expect(readFileSync(unit, "utf8")).toBe(UNIT);
    expect(readFileSync(config, "utf8")).toBe(EXAMPLE_CONFIG);
  });

  test("--prefix moves the binary and rewrites ExecStart", () => {
    const root = tempDir();
    const r = install("--binary", fakeBinary(), "--root", root, "--prefix", "/opt/parley");
    expect(r.code).toBe(0);
    expect(existsSync(join(root, "opt/parley/bin/parley"))).toBe(true);
    const unit = readFileSync(join(root, "etc/systemd/system/parley.service"), "utf8");
    expect(unit).toContain("\nExecStart=/opt/parley/bin/parley serve --config %d/parley.toml\n");
    expect(unit).not.toContain("/usr/local/bin/parley");
  });

  test("a second run replaces the binary but keeps an edited config", () => {
    const root = tempDir();
    expect(install("--binary", fakeBinary("v1"), "--root", root).code).toBe(0);
    const config = join(root, "etc/parley/parley.toml");
    writeFileSync(config, 'public_url = "https://chat.example.org"\n');
    const r = install("--binary", fakeBinary("v2"), "--root", root);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("kept existing");
    expect(readFileSync(config, "utf8")).toBe('public_url = "https://chat.example.org"\n');
    expect(readFileSync(join(root, "usr/local/bin/parley"), "utf8")).toContain("v2");
  });

  test("--no-systemd installs no unit", () => {
    const root = tempDir();
    expect(install("--binary", fakeBinary(), "--root", root, "--no-systemd").code).toBe(0);
    expect(existsSync(join(root, "usr/local/bin/parley"))).toBe(true);
    expect(existsSync(join(root, "etc/systemd/system/parley.service"))).toBe(false);
  });

  test("a missing binary fails with a clear message", () => {
    const root = tempDir();
    const r = install("--binary", join(root, "no-such-parley"), "--root", root);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("no-such-parley' does not exist");
    expect(existsSync(join(root, "etc"))).toBe(false);
  });

  test("an unknown option fails", () => {
    const r = install("--frobnicate");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("unknown argument '--frobnicate'");
  });

  test("a real install (no --root) refuses to run without root", () => {
    // A world-readable copy, so an unprivileged user can run it when the tests run as root.
    const dir = tempDir();
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, "deploy"));
    for (const f of ["install.sh", "parley.service", "parley.example.toml"]) {
      copyFileSync(join(ROOT, "deploy", f), join(dir, "deploy", f));
    }
    const bin = join(dir, "parley");
    writeFileSync(bin, "#!/bin/sh\n", { mode: 0o755 });
    const cmd = ["sh", join(dir, "deploy/install.sh"), "--binary", bin];
    const asUser =
      process.getuid?.() === 0
        ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", ...cmd]
        : cmd;
    const r = run(asUser, dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("needs root");
  });
});

describe("Dockerfile", () => {
  const stages = read("Dockerfile")
    .split(/^FROM /m)
    .slice(1)
    .map((s) => `FROM ${s}`);
  const build = stages[0] ?? "";
  const runtime = stages.at(-1) ?? "";
  const pkg = JSON.parse(read("package.json")) as { scripts: Record<string, string> };

  test("the build stage runs npm ci and npm run build, which writes dist/parley", () => {
    expect(stages.length).toBe(2);
    expect(build).toMatch(/^RUN npm ci$/m);
    expect(build).toMatch(/^RUN npm run build$/m);
    expect(pkg.scripts.build).toBe("npm run build:web && npm run build:binary");
    expect(pkg.scripts["build:binary"]).toContain("--outfile dist/parley");
  });

  test("the runtime stage copies only dist/parley and runs it as a non-root user", () => {
    const copies = runtime.split("\n").filter((l) => /^(COPY|ADD)\b/.test(l));
    expect(copies).toEqual(["COPY --from=build /src/dist/parley /usr/local/bin/parley"]);
    expect(runtime).toMatch(/^USER (?!root\b)\S+$/m);
    expect(runtime).toContain("ENV PARLEY_DATA_DIR=/data");
    expect(runtime).toContain('ENTRYPOINT ["/usr/local/bin/parley"]');
  });

  test(".dockerignore keeps local state out of the build context", () => {
    const ignored = read(".dockerignore").split("\n");
    for (const entry of [".git", "**/node_modules", "dist", "web/dist", "data"]) {
      expect(ignored).toContain(entry);
    }
  });
});

describe("reverse-proxy examples", () => {
  const maxBody = exampleNumber("max_body_bytes");
  const files = [
    {
      name: "deploy/nginx.conf",
      text: read("deploy/nginx.conf"),
      upgrade: [
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection $parley_connection;",
        "default upgrade;",
        "proxy_read_timeout 1h;",
        "proxy_buffering off;",
        "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "proxy_set_header X-Forwarded-Proto $scheme;",
        "location = /metrics",
      ],
      bodyLimit: /client_max_body_size (\d+)m;/,
    },
    {
      name: "deploy/Caddyfile",
      text: read("deploy/Caddyfile"),
      // Caddy proxies WebSocket upgrades and sets X-Forwarded-* by itself.
      upgrade: ["reverse_proxy 127.0.0.1:8080", "WebSocket", "flush_interval -1", "/metrics"],
      bodyLimit: /max_size (\d+)MiB/,
    },
  ];

  test.each(files)("$name proxies to 127.0.0.1:8080 and handles WebSocket", (f) => {
    expect(f.text).toContain("127.0.0.1:8080");
    for (const s of f.upgrade) expect(f.text).toContain(s);
  });

  test.each(files)("$name states the matching Parley config", (f) => {
    expect(f.text).toContain('host = "127.0.0.1"');
    expect(f.text).toContain('trusted_proxies = ["127.0.0.1", "::1"]');
  });

  test.each(files)("$name limits bodies like Parley's http.max_body_bytes", (f) => {
    const m = f.text.match(f.bodyLimit);
    expect(m).not.toBeNull();
    expect(Number(m![1]) * 1024 * 1024).toBe(maxBody);
  });
});

import { afterEach, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../../tests/support/databases.ts";
import { prepareDataDir } from "./data-dir.ts";
import { ConfigError, loadConfig } from "./load.ts";
import { renderEffectiveConfig, renderExampleConfig } from "./render.ts";
import { CONFIG_KEYS, DEFAULT_PORT } from "./schema.ts";

const dirs: { remove(): void }[] = [];
function tomlFile(text: string): string {
  const dir = tempDir();
  dirs.push(dir);
  const file = join(dir.path, "parley.toml");
  writeFileSync(file, text);
  return file;
}
afterEach(() => {
  for (const d of dirs.splice(0)) d.remove();
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config precedence", () => {
  test("with nothing set, every key has its default", () => {
    const { config, sources } = loadConfig({ env: {} });
    expect(config.port).toBe(DEFAULT_PORT);
    expect(config.data_dir).toBe("./data");
    expect(config.log).toEqual({ level: "info", format: "auto" });
    expect([...sources.values()].every((s) => s === "default")).toBe(true);
  });

  test("file < env < flags", () => {
    const file = tomlFile('port = 9001\nhost = "127.0.0.1"\n[log]\nlevel = "warn"\n');
    const { config, sources } = loadConfig({
      file,
      env: { PARLEY_PORT: "9002", PARLEY_LOG_LEVEL: "debug" },
      flags: { port: "9003" },
    });
    expect(config.port).toBe(9003);
    expect(config.host).toBe("127.0.0.1");
    expect(config.log.level).toBe("debug");
    expect(sources.get("port")).toBe("flag --port");
    expect(sources.get("host")).toBe(`file ${file}`);
    expect(sources.get("log.level")).toBe("env PARLEY_LOG_LEVEL");
  });

  test("PARLEY_CONFIG names the file when --config is absent", () => {
    const file = tomlFile("port = 7000\n");
    expect(loadConfig({ env: { PARLEY_CONFIG: file } }).config.port).toBe(7000);
  });

  test("lists come comma-separated from the environment", () => {
    const { config } = loadConfig({ env: { PARLEY_TRUSTED_PROXIES: "10.0.0.0/8, ::1,127.0.0.1" } });
    expect(config.trusted_proxies).toEqual(["10.0.0.0/8", "::1", "127.0.0.1"]);
  });
});

describe("a bad config names the key in one line", () => {
  const cases: [string, () => unknown, RegExp][] = [
    [
      "unknown key in the file",
      () => loadConfig({ file: tomlFile("prot = 80\n"), env: {} }),
      /^prot: unknown key in .*did you mean 'port'\?$/,
    ],
    [
      "unknown key in a section",
      () => loadConfig({ file: tomlFile("[log]\nlevle = 'x'\n"), env: {} }),
      /^log\.levle: unknown key/,
    ],
    [
      "unknown section",
      () => loadConfig({ file: tomlFile("[servre]\nport = 1\n"), env: {} }),
      /^servre: unknown key/,
    ],
    [
      "unknown PARLEY_ variable",
      () => loadConfig({ env: { PARLEY_PROT: "80" } }),
      /^PARLEY_PROT: unknown environment variable, did you mean 'PARLEY_PORT'\?$/,
    ],
    [
      "port out of range",
      () => loadConfig({ env: { PARLEY_PORT: "70000" } }),
      /^port: must be an integer from 0 to 65535 \(got 70000 from env PARLEY_PORT\)$/,
    ],
    [
      "port not a number",
      () => loadConfig({ flags: { port: "http" } }),
      /^port: must be an integer .*from flag --port/,
    ],
    [
      "port as a TOML string",
      () => loadConfig({ file: tomlFile('port = "8080"\n'), env: {} }),
      /^port: must be an integer/,
    ],
    [
      "bad enum",
      () => loadConfig({ env: { PARLEY_LOG_FORMAT: "xml" } }),
      /^log\.format: must be one of auto, json, pretty/,
    ],
    [
      "section given as a value",
      () => loadConfig({ file: tomlFile('log = "debug"\n'), env: {} }),
      /^log: must be a table/,
    ],
    [
      "TOML syntax",
      () => loadConfig({ file: tomlFile("port = = 1\n"), env: {} }),
      /^config: .* is not valid TOML/,
    ],
    [
      "missing file",
      () => loadConfig({ file: "/nonexistent/parley.toml", env: {} }),
      /^config: cannot read \/nonexistent\/parley\.toml: ENOENT$/,
    ],
    [
      "bad trusted proxy",
      () => loadConfig({ env: { PARLEY_TRUSTED_PROXIES: "10.0.0.0/99" } }),
      /^trusted_proxies: '10\.0\.0\.0\/99' is not an IP/,
    ],
    [
      "tls cert without key",
      () => loadConfig({ env: { PARLEY_TLS_CERT: "/etc/hostname" } }),
      /^tls\.key: tls\.cert and tls\.key must be set together/,
    ],
    [
      "unreadable tls file",
      () => loadConfig({ env: { PARLEY_TLS_CERT: "/nope.pem", PARLEY_TLS_KEY: "/nope.key" } }),
      /^tls\.cert: cannot read '\/nope\.pem' \(ENOENT\)/,
    ],
    [
      "database url scheme",
      () => loadConfig({ env: { PARLEY_DATABASE_URL: "postgres://x" } }),
      /^database\.url: must be a libsql/,
    ],
    [
      "public url scheme",
      () => loadConfig({ env: { PARLEY_PUBLIC_URL: "chat.example.org" } }),
      /^public_url: must be an http/,
    ],
    [
      "otp mode without a provider",
      () => loadConfig({ env: { PARLEY_REGISTRATION_MODE: "otp" } }),
      /^otp\.provider: registration\.mode = "otp" needs a code provider/,
    ],
    [
      "twilio without credentials",
      () => loadConfig({ env: { PARLEY_OTP_PROVIDER: "twilio" } }),
      /^twilio\.account_sid: is needed when otp\.provider is twilio/,
    ],
    [
      "smtp without a host",
      () => loadConfig({ env: { PARLEY_OTP_PROVIDER: "smtp" } }),
      /^smtp\.host: is needed when otp\.provider is smtp/,
    ],
    [
      "redis url scheme",
      () => loadConfig({ env: { PARLEY_REDIS_URL: "localhost:6379" } }),
      /^redis\.url: must be a redis: or rediss: URL/,
    ],
    [
      "boolean",
      () => loadConfig({ env: { PARLEY_DIRECTORY_SEARCH: "maybe" } }),
      /^directory\.search: must be true or false \(got "maybe"/,
    ],
  ];
  for (const [name, fn, message] of cases) {
    test(name, () => {
      const err = configError(fn);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain("\n");
    });
  }
});

describe("data directory", () => {
  test("is created with mode 0700 and returned absolute", () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = prepareDataDir("sub/data", dir.path);
    expect(path).toBe(join(dir.path, "sub/data"));
    expect(Bun.spawnSync(["stat", "-c", "%a", path]).stdout.toString().trim()).toBe("700");
  });

  test("under a regular file, it is refused naming data_dir", () => {
    const file = tomlFile("");
    expect(configError(() => prepareDataDir(join(file, "data"))).message).toMatch(
      /^data_dir: '.*\/parley\.toml\/data' is not a writable directory \(ENOTDIR\)$/,
    );
  });

  test("on a read-only file system, it is refused naming data_dir", () => {
    expect(configError(() => prepareDataDir("/proc/parley-data")).message).toMatch(
      /^data_dir: '\/proc\/parley-data' is not a writable directory/,
    );
  });

  test("an existing directory the server cannot write is refused", () => {
    const dir = tempDir();
    dirs.push(dir);
    const locked = join(dir.path, "locked");
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    // root ignores permission bits, so drop to nobody for the probe when running as root.
    const asNobody = process.getuid?.() === 0;
    const code = `import { prepareDataDir } from ${JSON.stringify(join(import.meta.dir, "data-dir.ts"))};
      try { prepareDataDir(${JSON.stringify(locked)}); console.log("ok"); } catch (e) { console.log(e.message); }`;
    const bun = process.execPath;
    chmodSync(dir.path, 0o755);
    const cmd = asNobody
      ? ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", bun, "-e", code]
      : [bun, "-e", code];
    const out = Bun.spawnSync(cmd, { cwd: "/" }).stdout.toString().trim();
    expect(out).toMatch(/^data_dir: '.*\/locked' is not a writable directory \(EACCES\)$/);
  });
});

describe("printing the configuration", () => {
  test("secrets are masked and each key says where it came from", () => {
    const loaded = loadConfig({
      env: { PARLEY_METRICS_TOKEN: "hunter2-metrics", PARLEY_DATABASE_AUTH_TOKEN: "hunter2-db" },
      flags: { port: "9999" },
    });
    const text = renderEffectiveConfig(loaded);
    expect(text).not.toContain("hunter2");
    expect(text).toContain('token = "********"  # env PARLEY_METRICS_TOKEN');
    expect(text).toContain('auth_token = "********"  # env PARLEY_DATABASE_AUTH_TOKEN');
    expect(text).toContain("port = 9999  # flag --port");
  });

  test("the printed configuration loads back to the same values", () => {
    const loaded = loadConfig({
      env: { PARLEY_PORT: "1234", PARLEY_TRUSTED_PROXIES: "10.0.0.0/8" },
    });
    const again = loadConfig({ file: tomlFile(renderEffectiveConfig(loaded)), env: {} });
    expect(again.config).toEqual(loaded.config);
  });
});

describe("the example config", () => {
  const example = readFileSync(join(import.meta.dir, "../../deploy/parley.example.toml"), "utf8");

  test("is the generated one (run `npm run gen:config` after changing the schema)", () => {
    expect(example).toBe(renderExampleConfig());
  });

  test("sets every key, each under a comment naming its env var and flag", () => {
    const lines = example.split("\n");
    for (const k of CONFIG_KEYS) {
      const name = k.path.at(-1)!;
      const at = lines.findIndex(
        (l, i) => l.startsWith(`${name} = `) && lines[i - 1]?.includes(k.env),
      );
      expect(at).toBeGreaterThan(0);
      expect(lines[at - 1]).toBe(`# env ${k.env}, flag --${k.flag}`);
      expect(lines[at - 2]).toMatch(/^# \S/);
    }
  });

  test("loads to the defaults", () => {
    const file = tomlFile(example);
    expect(loadConfig({ file, env: {} }).config).toEqual(loadConfig({ env: {} }).config);
  });
});

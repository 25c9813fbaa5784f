// The accounts API tests' fixture: a real server on a real port (open registration, rate
// limits out of the way, a clock the test can move), users made through the real sdk, raw
// HTTP for everything the sdk would never send, builders for valid requests to break one
// field at a time, and the runner of the scenario tables.
import { expect } from "bun:test";
import type { RegisterRequest, Tokens } from "../../protocol/api/accounts.ts";
import { toBase64Url } from "../../protocol/api/base64.ts";
import { API_PREFIX } from "../../protocol/api/version.ts";
import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import type { KeyPair } from "../../protocol/crypto/primitives.ts";
import type { ErrorCode } from "../../protocol/errors.ts";
import {
  type DeviceCertificate,
  encodeDeviceCertificate,
} from "../../protocol/identity/device-certificate.ts";
import {
  encodeDeviceList,
  nextDeviceList,
  signDeviceList,
} from "../../protocol/identity/device-list.ts";
import type { DeviceId, UserId } from "../../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import { encodeSignedPrekey, type PrekeyKind, signPrekey } from "../../protocol/identity/prekey.ts";
import { register } from "../../sdk/account.ts";
import type { ApiClient } from "../../sdk/api-client.ts";
import { type DeviceState, initialPrekeys, newDeviceState } from "../../sdk/device.ts";
import { syncOwnDeviceList } from "../../sdk/devices.ts";
import { uuidV7 } from "../../sdk/ids.ts";
import { prepareDataDir } from "../../server/config/data-dir.ts";
import { loadConfig } from "../../server/config/load.ts";
import { startServer } from "../../server/main.ts";
import { captureLog } from "../support/app.ts";
import { apiClient, FEW_PREKEYS, realContext } from "../support/client.ts";
import { tempDir } from "../support/databases.ts";

/** Rate limits high enough that no test here meets one (they have their own tests). */
const NO_RATE_LIMITS = {
  PARLEY_LIMITS_REQUESTS_PER_MINUTE: "1000000",
  PARLEY_LIMITS_PROTOCOL_PER_MINUTE: "1000000",
  PARLEY_LIMITS_REGISTRATIONS_PER_HOUR: "1000000",
  PARLEY_LIMITS_SIGN_INS_PER_MINUTE: "1000000",
  PARLEY_LIMITS_REFRESHES_PER_MINUTE: "1000000",
  PARLEY_LIMITS_OTP_PER_HOUR: "1000000",
  PARLEY_LIMITS_KEY_FETCHES_PER_MINUTE: "1000000",
};

/** Longer than the longest access token (15 minutes): a token issued this far back is dead. */
export const PAST_TOKEN_LIFETIME_MS = 16 * 60 * 1000;

export interface TestUser {
  state: DeviceState;
  api: ApiClient;
  username: string;
  /** The device's current access token. */
  readonly token: string;
}

export interface HttpResult {
  status: number;
  json: Record<string, unknown> | undefined;
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

function testUser(state: DeviceState, api: ApiClient, username: string): TestUser {
  return {
    state,
    api,
    username,
    get token() {
      return api.auth.tokens!.accessToken;
    },
  };
}

/**
 * A running server in open registration mode whose clock is `Date.now() + clock.offsetMs`
 * (the sdk side keeps the real clock). `env` adds or overrides `PARLEY_*` settings.
 */
export async function accountsServer(env: Record<string, string> = {}) {
  const dir = tempDir("parley-accounts-");
  const { config } = loadConfig({
    env: {
      PARLEY_HOST: "127.0.0.1",
      PARLEY_PORT: "0",
      PARLEY_DATA_DIR: dir.path,
      PARLEY_REGISTRATION_MODE: "open",
      ...NO_RATE_LIMITS,
      ...env,
    },
  });
  const clock = { offsetMs: 0 };
  const log = captureLog();
  const server = await startServer({
    config,
    dataDir: prepareDataDir(config.data_dir),
    log: log.log,
    version: "0.0.0-test",
    webDir: "/nonexistent",
    now: () => Date.now() + clock.offsetMs,
  });
  const url = server.url.toString().replace(/\/$/, "");
  const ctx: ProtocolContext = await realContext();
  let serial = 0;

  /** Raw HTTP under /api/v1, for the requests the sdk would never make. */
  async function http(method: string, path: string, options: RequestOptions = {}) {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined || options.rawBody !== undefined)
      headers["content-type"] ??= "application/json";
    const res = await fetch(`${url}${API_PREFIX}${path}`, {
      method,
      headers,
      body:
        options.rawBody ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
    });
    const text = await res.text();
    let json: Record<string, unknown> | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {}
    return { status: res.status, json, text, headers: res.headers } satisfies HttpResult;
  }

  const fixture = {
    server,
    url,
    ctx,
    log,
    clock,
    http,

    /** Registers a user (open mode) with one device, through the sdk. */
    async user(name = `user${++serial}_${Date.now() % 100_000}`): Promise<TestUser> {
      const api = apiClient(url);
      const { state } = await register(ctx, api, {
        username: name,
        proof: { kind: "open" },
        platform: "cli",
        prekeyCounts: FEW_PREKEYS,
      });
      return testUser(state, api, name);
    },

    /** A valid POST /accounts body (what sdk `register` sends) and the device it makes. */
    registration: (
      options: Omit<Parameters<typeof registrationRequest>[1], "username"> & {
        username?: string;
      } = {},
    ) =>
      registrationRequest(ctx, { username: `new${++serial}_${Date.now() % 100_000}`, ...options }),

    /** A valid POST /devices body adding a new device to `owner`'s account. */
    async linkRequest(owner: TestUser, options: LinkOptions = {}) {
      await syncOwnDeviceList(ctx, owner.api, owner.state);
      return linkRequest(ctx, owner.state, options);
    },

    /**
     * The next version of `owner`'s device list (base64url) with the devices `keep` keeps,
     * signed by `signer` (the account key by default): what DELETE /devices/:id takes.
     */
    async nextList(
      owner: TestUser,
      keep: (device: DeviceCertificate) => boolean,
      options: { signer?: KeyPair } = {},
    ): Promise<string> {
      await syncOwnDeviceList(ctx, owner.api, owner.state);
      const previous = owner.state.deviceList!;
      const next = await nextDeviceList(
        ctx,
        asAccountSecretKey((options.signer ?? owner.state.accountKeyPair).secretKey),
        previous,
        previous.devices.filter(keep),
      );
      return toBase64Url(encodeDeviceList(next));
    },

    /** A user with a second device linked (through POST /devices) and that device's tokens. */
    async userWithTwoDevices(): Promise<{ owner: TestUser; second: TestUser }> {
      const owner = await fixture.user();
      const { body, state } = await fixture.linkRequest(owner);
      const res = await http("POST", "/devices", { body });
      expectStatus(res, 201);
      const api = apiClient(url);
      await api.setTokens(res.json as Tokens);
      return { owner, second: testUser(state, api, owner.username) };
    },

    /** A fresh Ed25519 key pair: an account key that is no one's. */
    strangerKey: () => ctx.prims.ed25519.generateKeyPair(ctx.rng),

    /** One-time prekeys for `state`'s device, signed by `signer` (its account key by default). */
    prekeys: (state: DeviceState, options: PrekeyOptions = {}) =>
      signedPrekeys(ctx, state, options),

    /**
     * A token of `user`'s device that expired a minute ago: the device signs in with its
     * secret while the server's clock is set back past the token lifetime.
     */
    async expiredToken(user: TestUser): Promise<string> {
      clock.offsetMs = -PAST_TOKEN_LIFETIME_MS;
      try {
        const res = await http("POST", "/auth/token", {
          body: {
            grant: "device",
            deviceId: user.state.deviceId,
            secret: toBase64Url(user.state.deviceSecret),
          },
        });
        expectStatus(res, 200);
        return (res.json as Tokens).accessToken;
      } finally {
        clock.offsetMs = 0;
      }
    },

    /** An admin API call over the Unix socket (e.g. to make a plain invite). */
    async admin(method: string, path: string, body?: unknown) {
      const res = await fetch(`http://localhost/admin${path}`, {
        method,
        unix: server.adminSocket,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      } as RequestInit);
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    },

    async cleanup() {
      await server.shutdown("test done");
      dir.remove();
    },
  };
  return fixture;
}

export type AccountsServer = Awaited<ReturnType<typeof accountsServer>>;

/** Builds, without sending, the POST /accounts body sdk `register` sends. */
export async function registrationRequest(
  ctx: ProtocolContext,
  options: {
    username?: string;
    proof?: RegisterRequest["proof"];
    userId?: string;
    deviceId?: string;
    accountKeyPair?: KeyPair;
    /** The device list's version (1 for a valid registration). */
    listVersion?: number;
  },
): Promise<{ body: RegisterRequest; state: DeviceState }> {
  const accountKeyPair =
    options.accountKeyPair ?? (await ctx.prims.ed25519.generateKeyPair(ctx.rng));
  const userId = (options.userId ?? uuidV7(ctx.rng, ctx.now)) as UserId;
  const deviceId = (options.deviceId ?? uuidV7(ctx.rng, ctx.now)) as DeviceId;
  const state = await newDeviceState(ctx, { userId, deviceId, platform: "cli", accountKeyPair });
  state.deviceList = await signDeviceList(ctx, asAccountSecretKey(accountKeyPair.secretKey), {
    userId,
    version: options.listVersion ?? 1,
    previousHash: new Uint8Array(32),
    devices: [state.certificate],
  });
  const body: RegisterRequest = {
    userId,
    accountKey: toBase64Url(accountKeyPair.publicKey),
    device: {
      deviceId,
      secret: toBase64Url(state.deviceSecret),
      platform: "cli",
      certificate: toBase64Url(encodeDeviceCertificate(state.certificate)),
    },
    deviceList: toBase64Url(encodeDeviceList(state.deviceList)),
    keys: await initialPrekeys(ctx, state, FEW_PREKEYS),
    proof: options.proof ?? { kind: "open" },
    ...(options.username ? { username: options.username } : {}),
  };
  return { body, state };
}

export interface LinkOptions {
  deviceId?: string;
  /** The devices of the new list (default: the current ones and the new device). */
  devices?: (
    current: readonly DeviceCertificate[],
    added: DeviceCertificate,
  ) => DeviceCertificate[];
}

/** Builds, without sending, the POST /devices body sdk `finishLinking` sends. */
export async function linkRequest(ctx: ProtocolContext, owner: DeviceState, options: LinkOptions) {
  const previous = owner.deviceList!;
  const state = await newDeviceState(ctx, {
    userId: owner.userId,
    deviceId: (options.deviceId ?? uuidV7(ctx.rng, ctx.now)) as DeviceId,
    platform: "web",
    accountKeyPair: owner.accountKeyPair,
    profileKey: owner.profileKey,
  });
  const devices = options.devices
    ? options.devices(previous.devices, state.certificate)
    : [...previous.devices, state.certificate];
  state.deviceList = await nextDeviceList(
    ctx,
    asAccountSecretKey(owner.accountKeyPair.secretKey),
    previous,
    devices,
  );
  const body = {
    userId: state.userId as string,
    device: {
      deviceId: state.deviceId as string,
      secret: toBase64Url(state.deviceSecret),
      platform: "web" as const,
      certificate: toBase64Url(encodeDeviceCertificate(state.certificate)),
    },
    deviceList: toBase64Url(encodeDeviceList(state.deviceList)),
    keys: await initialPrekeys(ctx, state, FEW_PREKEYS),
  };
  return { body, state };
}

export interface PrekeyOptions {
  count?: number;
  kind?: PrekeyKind;
  /** Signs with this account key instead of the device's own account's. */
  signer?: KeyPair;
  /** Names this device in the prekey instead of the uploading one. */
  deviceId?: string;
}

let prekeyIds = 1_000_000;

/** Signed X25519 one-time prekeys for a device, as PUT /keys takes them. */
async function signedPrekeys(
  ctx: ProtocolContext,
  state: DeviceState,
  options: PrekeyOptions,
): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < (options.count ?? 1); i++) {
    const pair = await ctx.prims.x25519.generateKeyPair(ctx.rng);
    const prekey = await signPrekey(
      ctx,
      asAccountSecretKey((options.signer ?? state.accountKeyPair).secretKey),
      {
        userId: state.userId,
        deviceId: (options.deviceId ?? state.deviceId) as DeviceId,
        kind: options.kind ?? "one-time",
        keyId: prekeyIds++,
        publicKey: pair.publicKey,
      },
    );
    out.push(toBase64Url(encodeSignedPrekey(prekey)));
  }
  return out;
}

/** Asserts the catalogue error body: the status, the code, a message and the request id. */
export function expectError(res: HttpResult, status: number, code: ErrorCode): void {
  expectStatus(res, status, code);
  expectErrorShape(res);
}

/** Fails with what the server said when the status (or the error code) is not the one wanted. */
export function expectStatus(res: HttpResult, status: number, code?: ErrorCode): void {
  if (res.status !== status || (code !== undefined && res.json?.code !== code)) {
    throw new Error(
      `expected ${status}${code ? ` ${code}` : ""}, got ${res.status}: ${res.text.slice(0, 300)}`,
    );
  }
}

/** Any 4xx/5xx: `{code, message, requestId}`, the id echoed in X-Request-Id. */
export function expectErrorShape(res: HttpResult): void {
  expect(typeof res.json?.code).toBe("string");
  expect(typeof res.json?.message).toBe("string");
  expect(typeof res.json?.requestId).toBe("string");
  expect(res.headers.get("x-request-id")).toBe(res.json?.requestId as string);
}

/** One row of a scenario table (PocketBase's ApiScenario): a request and what must come back. */
export interface Scenario {
  /** What the row checks, in a few words. */
  name: string;
  method: string;
  /** The route pattern, for the test name (the request says the concrete path). */
  route: string;
  /** Builds the request just before it is sent (so it may make users or slots first). */
  request: () => ScenarioRequest | Promise<ScenarioRequest>;
  status: number;
  /** The catalogue code, for an error. */
  code?: ErrorCode;
  /** More checks on the response, or on the state after it. */
  after?: (res: HttpResult) => void | Promise<void>;
}

export interface ScenarioRequest extends RequestOptions {
  path: string;
}

/** `POST /accounts: username taken → 409 username_taken` */
export const scenarioTitle = (s: Scenario) =>
  `${s.method} ${s.route}: ${s.name} → ${s.status}${s.code ? ` ${s.code}` : ""}`;

/** Sends a scenario's request and checks the status, the error body and `after`. */
export async function runScenario(server: AccountsServer, s: Scenario): Promise<HttpResult> {
  const { path, ...options } = await s.request();
  const res = await server.http(s.method, path, options);
  expectStatus(res, s.status, s.code);
  if (res.status >= 400) expectErrorShape(res);
  await s.after?.(res);
  return res;
}

import { Database } from "bun:sqlite";
import { join } from "node:path";
import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import { register } from "../../sdk/account.ts";
import type { ApiClient } from "../../sdk/api-client.ts";
import type { DeviceState } from "../../sdk/device.ts";
import { approveLinking, finishLinking, startLinking } from "../../sdk/linking.ts";
import { apiClient, FEW_PREKEYS, realContext } from "./client.ts";
import { startTestServer, type TestServer } from "./server.ts";

export interface TestUser {
  state: DeviceState;
  api: ApiClient;
  username: string;
}

/** A running server in open registration mode, with helpers to make users and devices. */
export async function accountsFixture(
  env: Record<string, string> = {},
  options: Pick<
    NonNullable<Parameters<typeof startTestServer>[0]>,
    "now" | "wsPingIntervalMs" | "sharedDataDir" | "testPushNotifier"
  > = {},
) {
  // Every test registers from 127.0.0.1: per-address limits are lifted unless a test sets them.
  const lifted = {
    PARLEY_LIMITS_REGISTRATIONS_PER_HOUR: "100000",
    PARLEY_LIMITS_SIGN_INS_PER_MINUTE: "100000",
    PARLEY_LIMITS_REFRESHES_PER_MINUTE: "100000",
    PARLEY_LIMITS_REQUESTS_PER_MINUTE: "100000",
    PARLEY_LIMITS_KEY_FETCHES_PER_MINUTE: "100000",
  };
  const server = await startTestServer({
    env: { PARLEY_REGISTRATION_MODE: "open", ...lifted, ...env },
    ...options,
  });
  // The clients share the server's clock, so what they sign is current for the server.
  const ctx: ProtocolContext = {
    ...(await realContext()),
    ...(options.now && { now: options.now }),
  };
  let serial = 0;
  const fixture = {
    server,
    ctx,
    url: server.url,
    api: () => apiClient(server.url),
    /** Registers a user (open mode) with one device. */
    async user(name = `user${++serial}`): Promise<TestUser> {
      const api = apiClient(server.url);
      const { state } = await register(ctx, api, {
        username: name,
        proof: { kind: "open" },
        platform: "cli",
        prekeyCounts: FEW_PREKEYS,
      });
      return { state, api, username: name };
    },
    /** Links one more device to a user's account (approved by `approver`). */
    async linkDevice(approver: TestUser): Promise<TestUser> {
      const api = apiClient(server.url);
      const pending = await startLinking(ctx, api);
      const done = finishLinking(ctx, api, pending, { platform: "web", prekeyCounts: FEW_PREKEYS });
      await approveLinking(ctx, approver.api, approver.state, pending.payload);
      const { state } = await done;
      return { state, api, username: approver.username };
    },
    /** Raw HTTP to the server, for the error cases the sdk would never produce. */
    async http(
      method: string,
      path: string,
      options: {
        token?: string;
        body?: unknown;
        rawBody?: string;
        headers?: Record<string, string>;
      } = {},
    ) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      if (options.body !== undefined || options.rawBody !== undefined)
        headers["content-type"] ??= "application/json";
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers,
        body:
          options.rawBody ??
          (options.body === undefined ? undefined : JSON.stringify(options.body)),
      });
      const text = await res.text();
      let json: Record<string, unknown> | undefined;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {}
      return { status: res.status, json, text, headers: res.headers };
    },
    /** Rows of a query on the server's database file (read-only), for what the API hides. */
    rows<T = Record<string, unknown>>(query: string, ...params: string[]): T[] {
      const db = new Database(join(server.dataDir, "parley.db"), { readonly: true });
      try {
        return db.query(query).all(...params) as T[];
      } finally {
        db.close();
      }
    },
    /** The audit log, oldest first. */
    audit(action?: string) {
      return fixture
        .rows<{ actor: string; action: string; target: string | null; details: string | null }>(
          "SELECT actor, action, target, details FROM audit_log ORDER BY id",
        )
        .filter((r) => action === undefined || r.action === action);
    },
    cleanup: () => server.cleanup(),
  };
  return fixture;
}

export type AccountsFixture = Awaited<ReturnType<typeof accountsFixture>>;
export type { TestServer };

// The sdk's handling of device lists through the real server: a device follows its account's
// list version by version from the one it knows, refuses an older or forked list however the
// server serves it (here the server's database is tampered with, as a compromised server
// would), links several devices in a row, and checks every id before it goes into a URL.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { ParleyError } from "../../protocol/errors.ts";
import {
  deviceListHash,
  encodeDeviceList,
  signDeviceList,
} from "../../protocol/identity/device-list.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import { ApiClient } from "../../sdk/api-client.ts";
import {
  fetchDeviceList,
  listDevices,
  revokeDevice,
  syncOwnDeviceList,
} from "../../sdk/devices.ts";
import { fetchVerifiedBundles, findUser, memoryDeviceListMemory } from "../../sdk/directory.ts";
import { approveLinking, startLinking } from "../../sdk/linking.ts";
import type { HttpTransport } from "../../sdk/transport.ts";
import { accountsFixture, type TestUser } from "../support/accounts.ts";
import { fetchTransport } from "../support/client.ts";

const f = await accountsFixture();
afterAll(() => f.cleanup());

/** The catalogue code a call fails with, "none" when it succeeds. */
const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "none",
    (e) => (e instanceof ParleyError ? e.code : `not a ParleyError: ${e}`),
  );

/**
 * Another client of `user`'s device (same tokens) that records each request it sends, as
 * `METHOD /path?query`; `transport` may stand in for the server.
 */
function recordingClient(user: TestUser, transport: HttpTransport = fetchTransport) {
  const sent: string[] = [];
  const api = new ApiClient(
    f.url,
    (url, init) => {
      sent.push(`${init?.method ?? "GET"} ${url.slice(f.url.length)}`);
      return transport(url, init);
    },
    user.api.auth,
  );
  return { api, sent };
}

/** Runs SQL on the server's database, as a compromised server could. */
function tamper(sql: string, ...params: (string | number | Uint8Array)[]): void {
  const db = new Database(join(f.server.dataDir, "parley.db"));
  try {
    db.query(sql).run(...params);
  } finally {
    db.close();
  }
}

/** A user with `count` more devices linked, and its own copy of the list brought up to date. */
async function userWithDevices(count: number) {
  const owner = await f.user();
  const others: TestUser[] = [];
  for (let i = 0; i < count; i++) others.push(await f.linkDevice(owner));
  await syncOwnDeviceList(f.ctx, owner.api, owner.state);
  return { owner, others };
}

const ids = (list: { devices: readonly { deviceId: string }[] } | undefined) =>
  list?.devices.map((d) => d.deviceId).sort();

describe("linking", () => {
  test("one device approves several links in a row", async () => {
    const phone = await f.user();
    const laptop = await f.linkDevice(phone);
    // The phone's copy of the list is still version 1: it must fetch version 2 before it
    // hands the list to the next device, or that device signs a version the server refuses.
    expect(phone.state.deviceList?.version).toBe(1);
    const tablet = await f.linkDevice(phone);
    const desktop = await f.linkDevice(phone);

    expect(desktop.state.deviceList?.version).toBe(4);
    expect(ids(desktop.state.deviceList)).toEqual(
      [phone, laptop, tablet, desktop].map((u) => u.state.deviceId).sort(),
    );
    expect(await listDevices(f.ctx, phone.api, phone.state)).toHaveLength(4);
  });

  test("a payload with a bad slot id is refused before anything is sent", async () => {
    const phone = await f.user();
    const { payload } = await startLinking(f.ctx, f.api());
    const [code, slotId] = payload.split("/") as [string, string];
    const { api, sent } = recordingClient(phone);
    for (const bad of [
      `${code}/not-a-slot`,
      `${code}/..`,
      `${code}/${slotId.toUpperCase()}`,
      `${code}/${slotId}/extra`,
      `${code}/`,
      slotId,
    ]) {
      const err = await approveLinking(f.ctx, api, phone.state, bad).catch((e) => e);
      expect([bad, err instanceof ParleyError, err.code, err.field]).toEqual([
        bad,
        true,
        "invalid_key",
        "linkCode",
      ]);
    }
    expect(sent).toEqual([]);
  });
});

describe("own device list", () => {
  test("sync fetches only the versions after the known one and diffs against it", async () => {
    const phone = await f.user();
    const laptop = await f.linkDevice(phone);
    const { api, sent } = recordingClient(phone);

    const { list, diff } = await syncOwnDeviceList(f.ctx, api, phone.state);

    expect(sent).toEqual([`GET /api/v1/users/${phone.state.userId}/device-lists?since=1`]);
    expect(diff?.added.map((d) => d.deviceId)).toEqual([laptop.state.deviceId]);
    expect(list.version).toBe(2);
    expect(phone.state.deviceList).toBe(list);
    // Nothing newer: the known list stays, and nothing changed.
    const again = await syncOwnDeviceList(f.ctx, api, phone.state);
    expect(again.list).toBe(list);
    expect(again.diff).toEqual({ added: [], removed: [], rekeyed: [] });
    expect(sent.at(-1)).toEndWith("?since=2");
  });

  test("an older list served as the newest is refused, by sync, fetch and revoke", async () => {
    const { owner, others } = await userWithDevices(2);
    const [revoked, kept] = others as [TestUser, TestUser];
    await revokeDevice(f.ctx, owner.api, owner.state, revoked.state.deviceId);
    const known = owner.state.deviceList!;
    expect(known.version).toBe(4);
    // The server brings version 3 back as version 5: the revoked device would be in it.
    tamper(
      "UPDATE device_lists SET version = 5 WHERE user_id = ? AND version = 3",
      owner.state.userId,
    );

    expect(await codeOf(syncOwnDeviceList(f.ctx, owner.api, owner.state))).toBe(
      "device_list_rollback",
    );
    expect(owner.state.deviceList).toBe(known);
    const bob = await f.user();
    expect(
      await codeOf(
        fetchDeviceList(
          f.ctx,
          bob.api,
          owner.state.userId,
          owner.state.accountKeyPair.publicKey,
          known,
        ),
      ),
    ).toBe("device_list_rollback");
    // Revoking signs on top of a verified list only: nothing is sent, the device stays.
    const { api, sent } = recordingClient(owner);
    expect(await codeOf(revokeDevice(f.ctx, api, owner.state, kept.state.deviceId))).toBe(
      "device_list_rollback",
    );
    expect(sent.filter((r) => r.startsWith("DELETE"))).toEqual([]);
    expect(await codeOf(kept.api.request("GET", "/api/v1/account"))).toBe("none");
    expect(owner.state.deviceList).toBe(known);
  });

  test("a next version that does not link to the known one (a fork) is refused", async () => {
    const phone = await f.user();
    const known = phone.state.deviceList!;
    // Signed with the account key (as by a thief holding it), but not on top of version 1.
    const fork = await signDeviceList(
      f.ctx,
      asAccountSecretKey(phone.state.accountKeyPair.secretKey),
      {
        userId: phone.state.userId,
        version: 2,
        previousHash: new Uint8Array(32).fill(7),
        devices: known.devices,
      },
    );
    tamper(
      "INSERT INTO device_lists (user_id, version, encoded, hash, created_at) VALUES (?, 2, ?, ?, ?)",
      phone.state.userId,
      encodeDeviceList(fork),
      await deviceListHash(f.ctx, fork),
      Date.now(),
    );

    expect(await codeOf(syncOwnDeviceList(f.ctx, phone.api, phone.state))).toBe(
      "device_list_rollback",
    );
    expect(phone.state.deviceList).toBe(known);
  });

  test("a server that answers no list at all is a catalogue error", async () => {
    const phone = await f.user();
    const { api } = recordingClient(phone, async (url, init) =>
      url.includes("/device-lists")
        ? { ok: true, status: 200, json: async () => ({ lists: [] }) }
        : fetchTransport(url, init),
    );
    expect(
      await codeOf(
        fetchDeviceList(
          f.ctx,
          api,
          phone.state.userId,
          phone.state.accountKeyPair.publicKey,
          undefined,
        ),
      ),
    ).toBe("user_not_found");
  });
});

describe("ids are checked before they go into a URL", () => {
  test("revoking `../account` is refused, and does not delete the account", async () => {
    const { owner } = await userWithDevices(1);
    const { api, sent } = recordingClient(owner);
    expect(await codeOf(revokeDevice(f.ctx, api, owner.state, "../account"))).toBe(
      "invalid_request",
    );
    expect(sent).toEqual([]);
    expect(await codeOf(owner.api.request("GET", "/api/v1/account"))).toBe("none");
  });

  test("a bad user id is refused before a device list or key bundle is fetched", async () => {
    const bob = await f.user();
    const { api, sent } = recordingClient(bob);
    const key = bob.state.accountKeyPair.publicKey;
    const trust = { identities: bob.state.stores, deviceLists: memoryDeviceListMemory() };
    for (const bad of ["../account", bob.state.userId.toUpperCase(), ""]) {
      expect(await codeOf(fetchDeviceList(f.ctx, api, bad, key, undefined))).toBe(
        "invalid_request",
      );
      expect(await codeOf(fetchVerifiedBundles(f.ctx, api, bad, trust))).toBe("invalid_request");
    }
    expect(sent).toEqual([]);
  });

  test("a username no account can have is refused before it goes into a URL", async () => {
    const bob = await f.user();
    const { api, sent } = recordingClient(bob);
    for (const bad of ["..", ".hidden", "a/b", "ab"]) {
      expect(await codeOf(findUser(api, bad))).toBe("invalid_request");
    }
    expect(sent).toEqual([]);
    expect((await findUser(api, ` ${bob.username.toUpperCase()} `)).userId).toBe(bob.state.userId);
  });
});

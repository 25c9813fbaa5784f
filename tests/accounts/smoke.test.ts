import { afterAll, expect, test } from "bun:test";
import { register } from "../../sdk/account.ts";
import { listDevices } from "../../sdk/devices.ts";
import { approveLinking, finishLinking, startLinking } from "../../sdk/linking.ts";
import { apiClient, FEW_PREKEYS, realContext } from "../support/client.ts";
import { startTestServer } from "../support/server.ts";

const server = await startTestServer({ env: { PARLEY_REGISTRATION_MODE: "open" } });
afterAll(() => server.cleanup());

test("register, link a second device, list devices", async () => {
  const ctx = await realContext();
  const phoneApi = apiClient(server.url);
  const { state: phone } = await register(ctx, phoneApi, {
    username: "alice",
    proof: { kind: "open" },
    platform: "cli",
    prekeyCounts: FEW_PREKEYS,
  });
  const laptopApi = apiClient(server.url);
  const pending = await startLinking(ctx, laptopApi);
  const finished = finishLinking(ctx, laptopApi, pending, {
    platform: "web",
    prekeyCounts: FEW_PREKEYS,
  });
  await approveLinking(ctx, phoneApi, phone, pending.payload);
  const { state: laptop } = await finished;
  expect(laptop.userId).toBe(phone.userId);
  const devices = await listDevices(ctx, laptopApi, laptop);
  expect(devices.map((d) => d.deviceId).sort()).toEqual([phone.deviceId, laptop.deviceId].sort());
}, 30_000);

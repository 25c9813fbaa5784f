// To-device envelopes: delivered live to the recipient device, kept in its inbox (and in its
// sync) until it acknowledges them, over HTTP or the WebSocket; only active devices take them.
import { afterAll, expect, test } from "bun:test";
import { toBase64Url } from "../../protocol/api/base64.ts";
import { revokeDevice } from "../../sdk/devices.ts";
import type { TestUser } from "../support/accounts.ts";
import { eventually, expectError, expectStatus, frame, messagingFixture } from "./support.ts";

const f = await messagingFixture();
afterAll(() => f.cleanup());

const envelope = () => toBase64Url(f.ctx.rng(48));

const inSync = async (u: TestUser) => {
  const page = (await f.call(u, "GET", "/sync")).json as { toDevice: { envelope: string }[] };
  return page.toDevice.map((e) => e.envelope);
};

const inboxRows = (u: TestUser) =>
  f.rows("SELECT pos FROM inbox WHERE device_id = ?", u.state.deviceId);

test("POST /to-device → the recipient's socket gets to_device; the envelope stays in sync until DELETE /to-device?upTo=", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const bobSocket = await f.socket(bob);
  const sent = envelope();

  const res = await f.call(alice, "POST", "/to-device", {
    envelopes: [{ deviceId: bob.state.deviceId, envelope: sent }],
  });
  expectStatus(res, 201);
  expect(res.json).toEqual({ sent: 1 });
  const live = await frame(bobSocket, "to_device");
  expect(live).toMatchObject({
    senderUserId: alice.state.userId,
    senderDeviceId: alice.state.deviceId,
    envelope: sent,
  });
  expect(typeof live.pos).toBe("number");

  expect(await inSync(bob)).toEqual([sent]);
  expectStatus(await f.call(bob, "DELETE", `/to-device?upTo=${live.pos}`), 204);
  expect(await inSync(bob)).toEqual([]);
  expect(inboxRows(bob)).toEqual([]);
});

test("an acknowledgement covers envelopes up to its position only, and only the acknowledging device's", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const bobPhone = await f.linkDevice(bob);
  const [first, second, toPhone] = [envelope(), envelope(), envelope()];
  expectStatus(
    await f.call(alice, "POST", "/to-device", {
      envelopes: [
        { deviceId: bob.state.deviceId, envelope: first },
        { deviceId: bobPhone.state.deviceId, envelope: toPhone },
        { deviceId: bob.state.deviceId, envelope: second },
      ],
    }),
    201,
  );
  const page = (await f.call(bob, "GET", "/sync")).json?.toDevice as { pos: number }[];
  expect(page).toHaveLength(2);
  expectStatus(await f.call(bob, "DELETE", `/to-device?upTo=${page[0]!.pos}`), 204);
  expect(await inSync(bob)).toEqual([second]);
  expect(await inSync(bobPhone)).toEqual([toPhone]);
});

test("a WebSocket to_device_ack deletes the envelopes up to its position", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const bobSocket = await f.socket(bob);
  const sent = envelope();
  expectStatus(
    await f.call(alice, "POST", "/to-device", {
      envelopes: [{ deviceId: bob.state.deviceId, envelope: sent }],
    }),
    201,
  );
  const live = await frame(bobSocket, "to_device");
  bobSocket.ws.send(JSON.stringify({ type: "to_device_ack", upTo: live.pos }));
  await eventually(() => inboxRows(bob).length === 0);
  expect(await inSync(bob)).toEqual([]);
});

test("to a revoked or an unknown device → 404 device_not_found naming the envelope, nothing stored", async () => {
  const alice = await f.user();
  const bob = await f.user();
  const bobOld = await f.linkDevice(bob);
  await revokeDevice(f.ctx, bob.api, bob.state, bobOld.state.deviceId);

  for (const deviceId of [bobOld.state.deviceId, f.newId()]) {
    const res = await f.call(alice, "POST", "/to-device", {
      envelopes: [
        { deviceId: bob.state.deviceId, envelope: envelope() },
        { deviceId, envelope: envelope() },
      ],
    });
    expectError(res, 404, "device_not_found", "body.envelopes.1.deviceId");
  }
  // The whole request is refused: the valid envelope beside it was not stored either.
  expect(inboxRows(bob)).toEqual([]);
});

// Profiles and device names through the real server: the server stores them only as
// ciphertext, contacts holding the profile key read the profile, and only the account's own
// devices read device names.
import { afterAll, expect, test } from "bun:test";
import { fromBase64Url } from "../../protocol/api/base64.ts";
import { utf8 } from "../../protocol/crypto/bytes.ts";
import { ParleyError } from "../../protocol/errors.ts";
import { listDevices, renameDevice } from "../../sdk/devices.ts";
import { fetchProfile, setProfile } from "../../sdk/profile.ts";
import { accountsFixture } from "../support/accounts.ts";
import { filesUnder, findLeaks } from "../support/leaks.ts";

const f = await accountsFixture();
afterAll(() => f.cleanup());

test("a contact with the profile key reads the profile; the server holds only ciphertext", async () => {
  const alice = await f.user("alice");
  const bob = await f.user("bob");
  expect(await fetchProfile(f.ctx, bob.api, alice.state.userId, alice.state.profileKey)).toBe(
    undefined,
  );

  const stored = await setProfile(f.ctx, alice.api, alice.state, {
    displayName: "Alice Pleasance Liddell",
    status: "Curiouser and curiouser",
  });
  expect(stored.updatedAt).toBeGreaterThan(0);
  // Own profile (GET /account) and a contact's view (GET /users/:id, the key from a message).
  expect(await fetchProfile(f.ctx, alice.api, alice.state.userId, alice.state.profileKey)).toEqual(
    stored,
  );
  const profileKeyFromMessage = alice.state.profileKey.slice();
  expect(await fetchProfile(f.ctx, bob.api, alice.state.userId, profileKeyFromMessage)).toEqual(
    stored,
  );
  // Bob's own key does not open Alice's profile.
  const wrong = await fetchProfile(f.ctx, bob.api, alice.state.userId, bob.state.profileKey).catch(
    (e) => e,
  );
  expect(wrong instanceof ParleyError && wrong.code).toBe("decrypt_failed");

  // Alice's ciphertext copied onto Bob's account (what a malicious server could serve)
  // does not open as Bob's profile, even with Alice's key.
  const { profileCiphertext } = await alice.api.request<{ profileCiphertext: string }>(
    "GET",
    "/api/v1/account",
  );
  await bob.api.request("PUT", "/api/v1/account/profile", { body: { profileCiphertext } });
  const moved = await fetchProfile(
    f.ctx,
    alice.api,
    bob.state.userId,
    alice.state.profileKey,
  ).catch((e) => e);
  expect(moved instanceof ParleyError && moved.code).toBe("decrypt_failed");

  // The search finds what is stored (the ciphertext), so finding no plaintext means something.
  const files = filesUnder(f.server.dataDir);
  const sealed = fromBase64Url(profileCiphertext, "profileCiphertext");
  expect(findLeaks({ ciphertext: sealed }, files)).not.toEqual([]);
  const clear = {
    "display name": utf8(stored.displayName),
    status: utf8(stored.status),
    "profile key": alice.state.profileKey,
  };
  expect(findLeaks(clear, files)).toEqual([]);
});

test("a device renamed on one device reads back on another device of the account", async () => {
  const alice = await f.user("carol");
  const laptop = await f.linkDevice(alice);
  const name = "Carol's work laptop";
  await renameDevice(f.ctx, alice.api, alice.state, laptop.state.deviceId, name);
  await renameDevice(f.ctx, laptop.api, laptop.state, alice.state.deviceId, "Carol's phone");

  const seen = await listDevices(f.ctx, laptop.api, laptop.state);
  const names = Object.fromEntries(seen.map((d) => [d.deviceId, d.name]));
  expect(names).toEqual({
    [alice.state.deviceId]: "Carol's phone",
    [laptop.state.deviceId]: name,
  });
  expect(seen.find((d) => d.current)?.deviceId).toBe(laptop.state.deviceId);

  // Another account's key (as after an identity reset) cannot read them: names go missing,
  // the list does not fail.
  const dave = await f.user("dave");
  const blind = await listDevices(f.ctx, alice.api, {
    ...alice.state,
    accountKeyPair: dave.state.accountKeyPair,
  });
  expect(blind.map((d) => d.name)).toEqual([undefined, undefined]);

  // Clearing a name.
  await renameDevice(f.ctx, alice.api, alice.state, laptop.state.deviceId, undefined);
  const cleared = await listDevices(f.ctx, alice.api, alice.state);
  expect(cleared.find((d) => d.deviceId === laptop.state.deviceId)?.name).toBe(undefined);

  const raw = await alice.api.request<{ deviceId: string; nameCiphertext?: string }[]>(
    "GET",
    "/api/v1/devices",
  );
  const phoneName = raw.find((d) => d.deviceId === alice.state.deviceId)?.nameCiphertext ?? "";
  const sealedName = fromBase64Url(phoneName, "nameCiphertext");
  expect(sealedName.length).toBe(289);
  expect(findLeaks({ ciphertext: sealedName }, filesUnder(f.server.dataDir))).not.toEqual([]);
  expect(findLeaks({ "device name": utf8("Carol's phone") }, filesUnder(f.server.dataDir))).toEqual(
    [],
  );
});

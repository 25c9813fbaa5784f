// The server relays and stores what accounts and devices need, never a key: the account
// secret key and profile key cross it only inside the encrypted provisioning message, device
// secrets and tokens only as hashes. Searched raw, in hex and in base64 in the database, its
// write-ahead log and the server's log, during the run and after shutdown.
import { afterAll, expect, test } from "bun:test";
import { accountsFixture, type TestUser } from "../support/accounts.ts";
import { filesUnder, findLeaks } from "../support/leaks.ts";

const f = await accountsFixture();
afterAll(() => f.cleanup());

function deviceSecrets(prefix: string, u: TestUser) {
  const { identity } = u.state.stores;
  const secrets: Record<string, Uint8Array> = {
    [`${prefix} device secret`]: u.state.deviceSecret,
    [`${prefix} signing key`]: u.state.signingKeyPair.secretKey,
    [`${prefix} identity key`]: identity.identityKeyPair.secretKey,
  };
  for (const [id, pair] of u.state.stores.signedPrekeys)
    secrets[`${prefix} signed prekey ${id}`] = pair.secretKey;
  for (const [id, pair] of u.state.stores.oneTimePrekeys)
    secrets[`${prefix} one-time prekey ${id}`] = pair.secretKey;
  const tokens = u.api.auth.tokens;
  if (tokens) {
    secrets[`${prefix} access token`] = new TextEncoder().encode(tokens.accessToken);
    secrets[`${prefix} refresh token`] = new TextEncoder().encode(tokens.refreshToken);
  }
  return secrets;
}

test("no key, device secret or token reaches the database, its WAL or the log", async () => {
  const alice = await f.user("alice");
  const laptop = await f.linkDevice(alice);
  const bob = await f.user("bob");
  // Traffic that touches every store: profile, key directory, device list, sign-in.
  await alice.api.request("PUT", "/api/v1/account/profile", {
    body: { profileCiphertext: "c2VhbGVkIHByb2ZpbGUgYnl0ZXMgb25seQ" },
  });
  await bob.api.request("GET", `/api/v1/users/${alice.state.userId}/keys`);

  const secrets: Record<string, Uint8Array> = {
    "account secret key": alice.state.accountKeyPair.secretKey,
    "profile key": alice.state.profileKey,
    ...deviceSecrets("alice phone", alice),
    ...deviceSecrets("alice laptop", laptop),
    ...deviceSecrets("bob", bob),
  };
  // The linked device really received the account's keys (else there is nothing to find).
  expect(laptop.state.accountKeyPair.secretKey).toEqual(alice.state.accountKeyPair.secretKey);
  expect(laptop.state.profileKey).toEqual(alice.state.profileKey);

  const log = () => ({ path: "server log", bytes: new TextEncoder().encode(f.server.log.text()) });
  const running = filesUnder(f.server.dataDir);
  expect(running.some((p) => p.path.endsWith("-wal"))).toBe(true);
  expect(findLeaks(secrets, [...running, log()])).toEqual([]);

  await f.server.server.shutdown("test done");
  expect(findLeaks(secrets, [...filesUnder(f.server.dataDir), log()])).toEqual([]);
});

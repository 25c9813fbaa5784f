import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import type { KeyPair } from "../../protocol/crypto/primitives.ts";
import type { PrekeyBundle } from "../../protocol/session/pqxdh.ts";
import { InMemorySessionStores, type ProtocolAddress } from "../../protocol/session/stores.ts";

/** A device for session tests: identity, prekeys and in-memory stores. */
export interface Party {
  address: ProtocolAddress;
  accountKeyPair: KeyPair;
  store: InMemorySessionStores;
  /** Hands out a bundle as the server would: the next one-time keys, else last resort. */
  bundle(options?: { withOneTimePrekey?: boolean; lastResortPq?: boolean }): PrekeyBundle;
}

export const LAST_RESORT_PQ_ID = 1_000;

export async function createParty(
  ctx: ProtocolContext,
  userId: string,
  deviceId = "d1",
  options: { oneTimePrekeys?: number; pqOneTimePrekeys?: number } = {},
): Promise<Party> {
  const { prims, rng } = ctx;
  const accountKeyPair = await prims.ed25519.generateKeyPair(rng);
  const identityKeyPair = await prims.x25519.generateKeyPair(rng);
  const store = new InMemorySessionStores({
    userId,
    deviceId,
    accountKey: accountKeyPair.publicKey,
    identityKeyPair,
  });
  store.signedPrekeys.set(1, await prims.x25519.generateKeyPair(rng));
  for (let id = 1; id <= (options.oneTimePrekeys ?? 5); id++) {
    store.oneTimePrekeys.set(id, await prims.x25519.generateKeyPair(rng));
  }
  for (let id = 1; id <= (options.pqOneTimePrekeys ?? 2); id++) {
    store.pqPrekeys.set(id, {
      keyPair: await prims.mlkem1024.generateKeyPair(rng),
      lastResort: false,
    });
  }
  store.pqPrekeys.set(LAST_RESORT_PQ_ID, {
    keyPair: await prims.mlkem1024.generateKeyPair(rng),
    lastResort: true,
  });
  // What the server still has to hand out (it deletes a one-time key once given).
  const unclaimedOneTime = [...store.oneTimePrekeys.keys()];
  const unclaimedPq = [...store.pqPrekeys.entries()]
    .filter(([, v]) => !v.lastResort)
    .map(([id]) => id);
  return {
    address: { userId, deviceId },
    accountKeyPair,
    store,
    bundle({ withOneTimePrekey = true, lastResortPq = false } = {}) {
      const otkId = withOneTimePrekey ? unclaimedOneTime.shift() : undefined;
      const pqId = (lastResortPq ? undefined : unclaimedPq.shift()) ?? LAST_RESORT_PQ_ID;
      const pq = store.pqPrekeys.get(pqId)!;
      return {
        accountKey: accountKeyPair.publicKey,
        identityKey: identityKeyPair.publicKey,
        signedPrekey: { keyId: 1, publicKey: store.signedPrekeys.get(1)!.publicKey },
        oneTimePrekey:
          otkId === undefined
            ? undefined
            : { keyId: otkId, publicKey: store.oneTimePrekeys.get(otkId)!.publicKey },
        pqPrekey: { keyId: pqId, publicKey: pq.keyPair.publicKey, lastResort: pq.lastResort },
      };
    },
  };
}

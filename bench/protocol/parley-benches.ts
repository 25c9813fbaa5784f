// Parley's side of bench/protocol-ops.ts.
import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import {
  createSenderKey,
  distributionOf,
  emptySenderKeyRecord,
  encryptWithSenderKey,
  installDistribution,
} from "../../protocol/groups/sender-key.ts";
import {
  decryptManyWithSenderKey,
  decryptWithSenderKey,
} from "../../protocol/groups/sender-key-decrypt.ts";
import { issueDeviceCertificate } from "../../protocol/identity/device-certificate.ts";
import type { ConversationId, DeviceId, UserId } from "../../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import { signPrekey } from "../../protocol/identity/prekey.ts";
import { computeSafetyNumber } from "../../protocol/safety-number.ts";
import { type SignedPrekeyBundle, verifyPrekeyBundle } from "../../protocol/session/bundle.ts";
import {
  decryptPairwise,
  encryptPairwise,
  initiateSession,
} from "../../protocol/session/cipher.ts";
import type { PrekeyBundle } from "../../protocol/session/pqxdh.ts";
import { createParty } from "../../tests/support/parties.ts";
import { BATCH, type Bench, PAGE, payload, safetyInputs, uuid, uuids } from "./bench.ts";

/**
 * Full PQXDH setup, both sides: initiateSession + first (prekey) message of 1 KiB on the
 * initiator, decryption of it on the responder. Each setup uses a fresh responder one-time
 * X25519 prekey (its secret in a new array, as if loaded from storage, so WebCrypto imports
 * it as a real first use would) and the responder's last-resort ML-KEM-1024 prekey. Both
 * sides start without a session record (first contact). With `verifyBundle`, the initiator
 * first checks the bundle's signatures (verifyPrekeyBundle: device certificate, signed,
 * one-time and PQ prekey), as libsignal's processPreKeyBundle checks its two.
 */
export async function parleySetup(
  ctx: ProtocolContext,
  verifyBundle: boolean,
): Promise<Bench<{ id: number; signed: SignedPrekeyBundle }>> {
  const a = await createParty(ctx, uuid(), uuid(), { oneTimePrekeys: 0, pqOneTimePrekeys: 0 });
  const b = await createParty(ctx, uuid(), uuid(), { oneTimePrekeys: 0, pqOneTimePrekeys: 0 });
  const who = { userId: b.address.userId as UserId, deviceId: b.address.deviceId as DeviceId };
  const account = asAccountSecretKey(b.accountKeyPair.secretKey);
  const plain = b.bundle({ withOneTimePrekey: false, lastResortPq: true });
  const base: SignedPrekeyBundle = {
    accountKey: plain.accountKey,
    certificate: await issueDeviceCertificate(ctx, account, {
      ...who,
      identityKey: plain.identityKey,
      signingKey: (await ctx.prims.ed25519.generateKeyPair(ctx.rng)).publicKey,
    }),
    signedPrekey: await signPrekey(ctx, account, {
      ...who,
      kind: "signed",
      keyId: plain.signedPrekey.keyId,
      publicKey: plain.signedPrekey.publicKey,
    }),
    pqPrekey: await signPrekey(ctx, account, {
      ...who,
      kind: "pq-last-resort",
      keyId: plain.pqPrekey.keyId,
      publicKey: plain.pqPrekey.publicKey,
    }),
  };
  let nextId = 1;
  return {
    size: 1,
    async prepare() {
      const id = nextId++;
      const otk = await ctx.prims.x25519.generateKeyPair(ctx.rng);
      b.store.oneTimePrekeys.set(id, {
        publicKey: otk.publicKey,
        secretKey: otk.secretKey.slice(),
      });
      const oneTimePrekey = await signPrekey(ctx, account, {
        ...who,
        kind: "one-time",
        keyId: id,
        publicKey: otk.publicKey,
      });
      a.store.records.clear();
      b.store.records.clear();
      return { id, signed: { ...base, oneTimePrekey } };
    },
    async run({ id, signed }) {
      const bundle: PrekeyBundle = verifyBundle
        ? await verifyPrekeyBundle(ctx, signed, who)
        : {
            ...plain,
            oneTimePrekey: { keyId: id, publicKey: signed.oneTimePrekey!.publicKey },
          };
      await initiateSession(ctx, a.store.stores, b.address, bundle);
      const first = await encryptPairwise(ctx, a.store.stores, b.address, payload);
      if (first.type !== "prekey") throw new Error("expected a prekey message");
      await decryptPairwise(ctx, b.store.stores, a.address, first.body);
      if (b.store.oneTimePrekeys.has(id)) throw new Error("one-time prekey not used");
    },
  };
}

/** After a round trip: encrypt 1 KiB on A, decrypt it on B (one direction, so one chain). */
export async function parleyRatchet(ctx: ProtocolContext): Promise<Bench<undefined>> {
  const a = await createParty(ctx, uuid(), uuid());
  const b = await createParty(ctx, uuid(), uuid());
  await initiateSession(ctx, a.store.stores, b.address, b.bundle());
  const m1 = await encryptPairwise(ctx, a.store.stores, b.address, payload);
  await decryptPairwise(ctx, b.store.stores, a.address, m1.body);
  const r1 = await encryptPairwise(ctx, b.store.stores, a.address, payload);
  await decryptPairwise(ctx, a.store.stores, b.address, r1.body);
  return {
    size: BATCH,
    prepare: () => undefined,
    async run() {
      for (let i = 0; i < BATCH; i++) {
        const m = await encryptPairwise(ctx, a.store.stores, b.address, payload);
        if (m.type !== "ratchet") throw new Error("expected a ratchet message");
        await decryptPairwise(ctx, b.store.stores, a.address, m.body);
      }
    },
  };
}

export async function parleySenderKey(ctx: ProtocolContext) {
  const conversationId = uuid() as ConversationId;
  const senderUserId = uuid() as UserId;
  const senderDeviceId = uuid() as DeviceId;
  const own = await createSenderKey(ctx, {
    conversationId,
    senderUserId,
    senderDeviceId,
    previousVersion: 0,
    membershipEpoch: 1,
    membershipLogHash: new Uint8Array(32),
    deviceListVersion: 1,
  });
  let record = installDistribution(emptySenderKeyRecord(), distributionOf(own), ctx.now());
  const encrypt: Bench<string[]> = {
    size: BATCH,
    prepare: () => uuids(BATCH),
    async run(ids) {
      for (const id of ids) await encryptWithSenderKey(ctx, own, id, payload);
    },
  };
  // Decrypt (verify + decrypt) a batch the sender encrypted in order, untimed, just before.
  const decrypt: Bench<{ id: string; body: Uint8Array }[]> = {
    size: BATCH,
    async prepare() {
      const batch = [];
      for (const id of uuids(BATCH)) {
        batch.push({ id, body: await encryptWithSenderKey(ctx, own, id, payload) });
      }
      return batch;
    },
    async run(batch) {
      for (const { id, body } of batch) {
        const envelope = {
          conversationId,
          senderUserId,
          senderDeviceId,
          clientMessageId: id,
          serverTime: 0,
        };
        record = (await decryptWithSenderKey(ctx, record, envelope, body)).record;
      }
    },
  };
  // The same work with 64 messages in flight: a burst sent at once, and a page of history
  // decrypted in one call (signatures and AES overlap in WebCrypto's thread pool).
  const encryptBurst: Bench<string[]> = {
    size: BATCH,
    prepare: () => uuids(BATCH),
    async run(ids) {
      for (let i = 0; i < ids.length; i += PAGE) {
        await Promise.all(
          ids.slice(i, i + PAGE).map((id) => encryptWithSenderKey(ctx, own, id, payload)),
        );
      }
    },
  };
  const decryptPage: Bench<{ id: string; body: Uint8Array }[]> = {
    size: decrypt.size,
    prepare: decrypt.prepare,
    async run(batch) {
      for (let i = 0; i < batch.length; i += PAGE) {
        const items = batch.slice(i, i + PAGE).map(({ id, body }) => ({
          envelope: {
            conversationId,
            senderUserId,
            senderDeviceId,
            clientMessageId: id,
            serverTime: 0,
          },
          body,
        }));
        const out = await decryptManyWithSenderKey(ctx, record, items);
        if (out.results.some((r) => "error" in r)) throw new Error("a page message failed");
        record = out.record;
      }
    },
  };
  return { encrypt, decrypt, encryptBurst, decryptPage };
}

export const parleySafetyNumber: Bench<undefined> = {
  size: 1,
  prepare: () => undefined,
  run() {
    computeSafetyNumber({
      local: {
        userId: safetyInputs.local.userId,
        accountKey: safetyInputs.local.key.getPublicKeyBytes(),
      },
      remote: {
        userId: safetyInputs.remote.userId,
        accountKey: safetyInputs.remote.key.getPublicKeyBytes(),
      },
    });
  },
};

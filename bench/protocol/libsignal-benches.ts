// libsignal's side of bench/protocol-ops.ts: the same operations with
// @signalapp/libsignal-client (Rust through Node-API).
import * as signal from "@signalapp/libsignal-client";
import { BATCH, type Bench, payload, safetyInputs, uuid } from "./bench.ts";
import { LibsignalParty } from "./libsignal-stores.ts";

const { CiphertextMessageType } = signal;

/**
 * The same setup: processPreKeyBundle (which also verifies the signed prekey's and the Kyber
 * prekey's signatures) + signalEncrypt of 1 KiB on the initiator, signalDecryptPreKey on the
 * responder. Fresh one-time EC prekey each time, last-resort Kyber (ML-KEM-1024) prekey.
 */
export function libsignalSetup(): Bench<signal.PreKeyBundle> {
  const a = new LibsignalParty(uuid(), 1, 1001);
  const b = new LibsignalParty(uuid(), 1, 1002);
  return {
    size: 1,
    prepare() {
      a.sessions.records.clear();
      b.sessions.records.clear();
      return b.bundle(true);
    },
    async run(bundle) {
      await signal.processPreKeyBundle(bundle, b.address, a.address, a.sessions, a.identity);
      const first = await signal.signalEncrypt(
        payload,
        b.address,
        a.address,
        a.sessions,
        a.identity,
      );
      if (first.type() !== CiphertextMessageType.PreKey) throw new Error("expected PreKey");
      await signal.signalDecryptPreKey(
        signal.PreKeySignalMessage.deserialize(first.serialize()),
        a.address,
        b.address,
        b.sessions,
        b.identity,
        b.preKeys,
        b.signedPreKeys,
        b.kyberPreKeys,
      );
      if (b.preKeys.records.has(bundle.preKeyId()!)) throw new Error("one-time prekey not used");
    },
  };
}

export async function libsignalRatchet(): Promise<Bench<undefined>> {
  const a = new LibsignalParty(uuid(), 1, 1001);
  const b = new LibsignalParty(uuid(), 1, 1002);
  await signal.processPreKeyBundle(b.bundle(true), b.address, a.address, a.sessions, a.identity);
  const m1 = await signal.signalEncrypt(payload, b.address, a.address, a.sessions, a.identity);
  await signal.signalDecryptPreKey(
    signal.PreKeySignalMessage.deserialize(m1.serialize()),
    a.address,
    b.address,
    b.sessions,
    b.identity,
    b.preKeys,
    b.signedPreKeys,
    b.kyberPreKeys,
  );
  const r1 = await signal.signalEncrypt(payload, a.address, b.address, b.sessions, b.identity);
  await signal.signalDecrypt(
    signal.SignalMessage.deserialize(r1.serialize()),
    b.address,
    a.address,
    a.sessions,
    a.identity,
  );
  return {
    size: BATCH,
    prepare: () => undefined,
    async run() {
      for (let i = 0; i < BATCH; i++) {
        const m = await signal.signalEncrypt(payload, b.address, a.address, a.sessions, a.identity);
        if (m.type() !== CiphertextMessageType.Whisper) throw new Error("expected Whisper");
        await signal.signalDecrypt(
          signal.SignalMessage.deserialize(m.serialize()),
          a.address,
          b.address,
          b.sessions,
          b.identity,
        );
      }
    },
  };
}

export async function libsignalSenderKey() {
  const a = new LibsignalParty(uuid(), 1, 1001);
  const b = new LibsignalParty(uuid(), 1, 1002);
  const distributionId = uuid();
  const skdm = await signal.SenderKeyDistributionMessage.create(
    a.address,
    distributionId,
    a.senderKeys,
  );
  await signal.processSenderKeyDistributionMessage(a.address, skdm, b.senderKeys);
  const encryptOne = async () =>
    (await signal.groupEncrypt(a.address, distributionId, a.senderKeys, payload)).serialize();
  const encrypt: Bench<undefined> = {
    size: BATCH,
    prepare: () => undefined,
    async run() {
      for (let i = 0; i < BATCH; i++) await encryptOne();
    },
  };
  const decrypt: Bench<Uint8Array<ArrayBuffer>[]> = {
    size: BATCH,
    async prepare() {
      const batch = [];
      for (let i = 0; i < BATCH; i++) batch.push(await encryptOne());
      return batch;
    },
    async run(batch) {
      for (const body of batch) await signal.groupDecrypt(a.address, b.senderKeys, body);
    },
  };
  return { encrypt, decrypt };
}

export const libsignalSafetyNumber: Bench<undefined> = {
  size: 1,
  prepare: () => undefined,
  run() {
    const utf8 = (s: string) => new TextEncoder().encode(s);
    const fp = signal.Fingerprint.new(
      5200,
      2,
      utf8(safetyInputs.local.userId),
      safetyInputs.local.key,
      utf8(safetyInputs.remote.userId),
      safetyInputs.remote.key,
    );
    fp.displayableFingerprint().toString();
    fp.scannableFingerprint().toBuffer();
  },
};

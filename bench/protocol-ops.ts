// Protocol operations per second: Parley on its native (WebCrypto) and noble (pure JS)
// primitives against @signalapp/libsignal-client (Rust, through its Node-API addon), all in
// one run on this machine. Each operation is warmed up, then run for a fixed time; only the
// operation itself is timed (fresh keys, message ids and ciphertexts to decrypt are made
// between timed batches).
//   bun bench/protocol-ops.ts [seconds-per-op=2]
import * as signal from "@signalapp/libsignal-client";
import { systemClock, systemRng } from "../protocol/crypto/bytes.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { nativePrimitives } from "../protocol/crypto/native.ts";
import { noblePrimitives } from "../protocol/crypto/noble.ts";
import type { Primitives } from "../protocol/crypto/primitives.ts";
import {
  createSenderKey,
  distributionOf,
  emptySenderKeyRecord,
  encryptWithSenderKey,
  installDistribution,
} from "../protocol/groups/sender-key.ts";
import {
  decryptManyWithSenderKey,
  decryptWithSenderKey,
} from "../protocol/groups/sender-key-decrypt.ts";
import { issueDeviceCertificate } from "../protocol/identity/device-certificate.ts";
import type { ConversationId, DeviceId, UserId } from "../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../protocol/identity/keys.ts";
import { signPrekey } from "../protocol/identity/prekey.ts";
import { computeSafetyNumber } from "../protocol/safety-number.ts";
import { type SignedPrekeyBundle, verifyPrekeyBundle } from "../protocol/session/bundle.ts";
import { decryptPairwise, encryptPairwise, initiateSession } from "../protocol/session/cipher.ts";
import type { PrekeyBundle } from "../protocol/session/pqxdh.ts";
import { createParty } from "../tests/support/parties.ts";
import { LibsignalParty } from "./protocol/libsignal-stores.ts";

const seconds = Number(process.argv[2] ?? 2);
if (!(seconds > 0)) throw new Error("usage: bun bench/protocol-ops.ts [seconds-per-op=2]");
const warmupSeconds = Math.min(0.5, seconds / 4);
const BATCH = 128;
/** Messages in flight for the burst and page rows. */
const PAGE = 64;
const payload = crypto.getRandomValues(new Uint8Array(1024));

/**
 * A benchmark: `prepare` makes what one timed batch needs (untimed), `run` does `size`
 * operations (timed). Batches run until the timed total reaches the duration.
 */
interface Bench<T> {
  size: number;
  prepare(): Promise<T> | T;
  run(batch: T): Promise<void> | void;
}

/** Overall ops/s, and the slowest and fastest of WINDOWS equal slices of the run. */
interface Rate {
  rate: number;
  min: number;
  max: number;
}
const WINDOWS = 5;

async function opsPerSecond<T>(b: Bench<T>, duration: number): Promise<Rate> {
  const windowMs = (duration * 1000) / WINDOWS;
  const windows: number[] = [];
  let elapsed = 0;
  let ops = 0;
  let windowElapsed = 0;
  let windowOps = 0;
  while (elapsed < duration * 1000) {
    const batch = await b.prepare();
    const start = performance.now();
    await b.run(batch);
    const took = performance.now() - start;
    elapsed += took;
    ops += b.size;
    windowElapsed += took;
    windowOps += b.size;
    if (windowElapsed >= windowMs) {
      windows.push(windowOps / (windowElapsed / 1000));
      windowElapsed = 0;
      windowOps = 0;
    }
  }
  if (windowOps > 0) windows.push(windowOps / (windowElapsed / 1000));
  return { rate: ops / (elapsed / 1000), min: Math.min(...windows), max: Math.max(...windows) };
}

async function measure<T>(b: Bench<T>): Promise<Rate> {
  await opsPerSecond(b, warmupSeconds);
  return opsPerSecond(b, seconds);
}

const uuid = () => crypto.randomUUID();
const uuids = (n: number) => Array.from({ length: n }, uuid);

// ---- Parley ---------------------------------------------------------------------------------

/**
 * Full PQXDH setup, both sides: initiateSession + first (prekey) message of 1 KiB on the
 * initiator, decryption of it on the responder. Each setup uses a fresh responder one-time
 * X25519 prekey (its secret in a new array, as if loaded from storage, so WebCrypto imports
 * it as a real first use would) and the responder's last-resort ML-KEM-1024 prekey. Both
 * sides start without a session record (first contact). With `verifyBundle`, the initiator
 * first checks the bundle's signatures (verifyPrekeyBundle: device certificate, signed,
 * one-time and PQ prekey), as libsignal's processPreKeyBundle checks its two.
 */
async function parleySetup(
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
async function parleyRatchet(ctx: ProtocolContext): Promise<Bench<undefined>> {
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

async function parleySenderKey(ctx: ProtocolContext) {
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

/** Both users' ids and 32-byte account keys; the same inputs for Parley and libsignal. */
const safetyInputs = (() => {
  const key = () => signal.PrivateKey.generate().getPublicKey();
  return { local: { userId: uuid(), key: key() }, remote: { userId: uuid(), key: key() } };
})();

const parleySafetyNumber: Bench<undefined> = {
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

// ---- libsignal ------------------------------------------------------------------------------

const { CiphertextMessageType } = signal;

/**
 * The same setup: processPreKeyBundle (which also verifies the signed prekey's and the Kyber
 * prekey's signatures) + signalEncrypt of 1 KiB on the initiator, signalDecryptPreKey on the
 * responder. Fresh one-time EC prekey each time, last-resort Kyber (ML-KEM-1024) prekey.
 */
function libsignalSetup(): Bench<signal.PreKeyBundle> {
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

async function libsignalRatchet(): Promise<Bench<undefined>> {
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

async function libsignalSenderKey() {
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

const libsignalSafetyNumber: Bench<undefined> = {
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

// ---- run ------------------------------------------------------------------------------------

const native = await nativePrimitives();
if (!native) throw new Error("this runtime has no native (WebCrypto) primitives");
const context = (prims: Primitives): ProtocolContext => ({
  prims,
  rng: systemRng,
  now: systemClock,
});

interface Row {
  name: string;
  native: Rate;
  noble: Rate;
  libsignal: Rate;
}
const rows: Row[] = [];
async function row(
  name: string,
  parley: (ctx: ProtocolContext) => Promise<Bench<unknown>>,
  libsignal: () => Promise<Bench<unknown>>,
) {
  const r: Row = {
    name,
    native: await measure(await parley(context(native!))),
    noble: await measure(await parley(context(noblePrimitives))),
    libsignal: await measure(await libsignal()),
  };
  rows.push(r);
  console.error(`  measured: ${name}`);
}

const command = `bun bench/protocol-ops.ts ${seconds}`;
console.log(
  `command: ${command}   (Bun ${Bun.version}, ${navigator.hardwareConcurrency} CPUs, ${new Date().toISOString().slice(0, 10)})`,
);
const started = performance.now();
await row(
  "PQXDH session setup (both sides)",
  (ctx) => parleySetup(ctx, false),
  async () => libsignalSetup(),
);
await row(
  "  same + verifyPrekeyBundle first",
  (ctx) => parleySetup(ctx, true),
  async () => libsignalSetup(),
);
await row("ratchet encrypt+decrypt 1 KiB", parleyRatchet, libsignalRatchet);
await row(
  "sender-key encrypt 1 KiB",
  async (ctx) => (await parleySenderKey(ctx)).encrypt,
  async () => (await libsignalSenderKey()).encrypt,
);
await row(
  "sender-key decrypt 1 KiB (verify+decrypt)",
  async (ctx) => (await parleySenderKey(ctx)).decrypt,
  async () => (await libsignalSenderKey()).decrypt,
);
await row(
  "sender-key encrypt 1 KiB, 64 at once (libsignal: one by one)",
  async (ctx) => (await parleySenderKey(ctx)).encryptBurst,
  async () => (await libsignalSenderKey()).encrypt,
);
await row(
  "sender-key decrypt 1 KiB, pages of 64 (libsignal: one by one)",
  async (ctx) => (await parleySenderKey(ctx)).decryptPage,
  async () => (await libsignalSenderKey()).decrypt,
);
await row(
  "safety number (same code both Parley cols)",
  async () => parleySafetyNumber,
  async () => libsignalSafetyNumber,
);

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const cell = (r: Rate) => `${fmt(r.rate)} (${fmt(r.min)}–${fmt(r.max)})`;
const table = [
  ["operation", "Parley native ops/s", "Parley noble ops/s", "libsignal ops/s", "native/libsignal"],
  ...rows.map((r) => [
    r.name,
    cell(r.native),
    cell(r.noble),
    cell(r.libsignal),
    (r.native.rate / r.libsignal.rate).toFixed(2),
  ]),
];
const widths = table[0]!.map((_, i) => Math.max(...table.map((t) => t[i]!.length)));
for (const t of table) {
  console.log(
    t.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "),
  );
}
console.log(`ops/s over ${seconds} s each (slowest–fastest of ${WINDOWS} equal slices)`);
const ms = (r: Rate) => (1000 / r.rate).toFixed(2);
for (const r of rows.slice(0, 2)) {
  console.log(
    `${r.name.trim()}: ms per full setup: Parley native ${ms(r.native)}, noble ${ms(r.noble)}, libsignal ${ms(r.libsignal)}`,
  );
}
console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);

import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ParleyError } from "../errors.ts";
import { WireType } from "../wire/codec.ts";
import { MAX_ARCHIVED_STATES } from "./limits.ts";
import {
  decodePrekeyMessage,
  decodeRatchetMessage,
  encodePrekeyMessage,
  type PrekeyMessage,
} from "./messages.ts";
import { type PrekeyBundle, pqxdhInitiate, pqxdhRespond } from "./pqxdh.ts";
import {
  cloneState,
  initiatorState,
  ratchetDecrypt,
  ratchetEncrypt,
  responderState,
  type SessionState,
} from "./ratchet.ts";
import { decodeSessionRecord, encodeSessionRecord, type SessionRecord } from "./record.ts";
import { addressKey, type ProtocolAddress, type SessionStores } from "./stores.ts";

/** The kind of an encrypted pairwise message (the second byte of its encoding). */
export type PairwiseMessageType = "prekey" | "ratchet";

// Keyed by the session store itself: callers may build a new SessionStores object per call.
const locks = new WeakMap<object, Map<string, Promise<unknown>>>();

/** Runs `fn` after every earlier operation on the same address and stores has settled. */
function serialized<T>(
  stores: SessionStores,
  address: ProtocolAddress,
  fn: () => Promise<T>,
): Promise<T> {
  let perStore = locks.get(stores.sessions);
  if (!perStore) {
    perStore = new Map();
    locks.set(stores.sessions, perStore);
  }
  const key = addressKey(address);
  const previous = perStore.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const settled = run.then(
    () => undefined,
    () => undefined,
  );
  perStore.set(key, settled);
  settled.then(() => {
    if (perStore.get(key) === settled) perStore.delete(key);
  });
  return run;
}

async function loadRecord(stores: SessionStores, address: ProtocolAddress): Promise<SessionRecord> {
  const bytes = await stores.sessions.loadSession(address);
  return bytes ? decodeSessionRecord(bytes) : { current: undefined, archived: [] };
}

/**
 * Makes `state` current in place of `replaced` (the stored state it was computed from, if
 * any); the previous current state, unless replaced, becomes the newest archived one.
 */
function promote(
  record: SessionRecord,
  state: SessionState,
  replaced?: SessionState,
): SessionRecord {
  const archived = [record.current, ...record.archived].filter(
    (s): s is SessionState => s !== undefined && s !== replaced,
  );
  return { current: state, archived: archived.slice(0, MAX_ARCHIVED_STATES) };
}

/** Does `record` hold a session with this remote device? */
export async function hasSession(
  stores: SessionStores,
  address: ProtocolAddress,
): Promise<boolean> {
  return (await loadRecord(stores, address)).current !== undefined;
}

/**
 * Starts a session with a remote device from its prekey bundle (signatures already checked
 * against the device's certificate: protocol/identity). A different account key than the
 * one on record for the user is `untrusted_identity`.
 */
export function initiateSession(
  ctx: ProtocolContext,
  stores: SessionStores,
  address: ProtocolAddress,
  bundle: PrekeyBundle,
): Promise<void> {
  return serialized(stores, address, async () => {
    if (!(await stores.identities.isTrustedIdentity(address.userId, bundle.accountKey))) {
      throw new ParleyError("untrusted_identity", undefined, {
        detail: `new account key for ${address.userId}`,
      });
    }
    const local = await stores.keys.localIdentity();
    const result = await pqxdhInitiate(ctx, local, bundle);
    const state = await initiatorState(ctx, {
      sharedSecret: result.sharedSecret,
      associatedData: result.associatedData,
      remoteAccountKey: bundle.accountKey,
      remoteIdentityKey: bundle.identityKey,
      remoteSignedPrekey: bundle.signedPrekey.publicKey,
      baseKey: result.baseKeyPair.publicKey,
      pending: {
        signedPrekeyId: bundle.signedPrekey.keyId,
        oneTimePrekeyId: bundle.oneTimePrekey?.keyId,
        pqPrekeyId: bundle.pqPrekey.keyId,
        kemCiphertext: result.kemCiphertext,
      },
    });
    const record = promote(await loadRecord(stores, address), state);
    await stores.sessions.storeSession(address, encodeSessionRecord(record));
  });
}

/**
 * Encrypts for a remote device with the current session. Until that device has answered,
 * the result is a prekey message carrying what it needs to run PQXDH.
 */
export function encryptPairwise(
  ctx: ProtocolContext,
  stores: SessionStores,
  address: ProtocolAddress,
  plaintext: Uint8Array,
): Promise<{ type: PairwiseMessageType; body: Uint8Array }> {
  return serialized(stores, address, async () => {
    const record = await loadRecord(stores, address);
    if (!record.current)
      throw new Error(`no session with ${addressKey(address)}: initiate one first`);
    const state = cloneState(record.current);
    const message = await ratchetEncrypt(ctx, state, plaintext);
    let result: { type: PairwiseMessageType; body: Uint8Array } = {
      type: "ratchet",
      body: message,
    };
    if (state.pending) {
      const local = await stores.keys.localIdentity();
      const body = encodePrekeyMessage({
        ...state.pending,
        baseKey: state.baseKey,
        senderAccountKey: local.accountKey,
        senderIdentityKey: local.identityKeyPair.publicKey,
        message,
      });
      result = { type: "prekey", body };
    }
    await stores.sessions.storeSession(address, encodeSessionRecord({ ...record, current: state }));
    return result;
  });
}

/**
 * Decrypts a pairwise message (prekey or ratchet) from a remote device. Errors are only
 * `duplicate_message`, `untrusted_identity` or `decrypt_failed` — whatever the cause (bad
 * encoding, unknown prekey, forged tag, replayed first message); the cause is in `detail`.
 */
export function decryptPairwise(
  ctx: ProtocolContext,
  stores: SessionStores,
  address: ProtocolAddress,
  body: Uint8Array,
): Promise<Uint8Array> {
  return serialized(stores, address, async () => {
    try {
      return body[1] === WireType.prekeyMessage
        ? await decryptPrekey(ctx, stores, address, decodePrekeyMessage(body))
        : await decryptWithRecord(ctx, stores, address, await loadRecord(stores, address), body);
    } catch (err) {
      if (
        err instanceof ParleyError &&
        (err.code === "duplicate_message" || err.code === "untrusted_identity")
      ) {
        throw err;
      }
      const detail =
        err instanceof ParleyError ? `${err.code}: ${err.detail ?? err.message}` : String(err);
      throw new ParleyError("decrypt_failed", undefined, { detail, cause: err });
    }
  });
}

/** Tries the current state, then archived ones; the one that decrypts becomes current. */
async function decryptWithRecord(
  ctx: ProtocolContext,
  stores: SessionStores,
  address: ProtocolAddress,
  record: SessionRecord,
  body: Uint8Array,
): Promise<Uint8Array> {
  const message = decodeRatchetMessage(body);
  let duplicate: ParleyError | undefined;
  let firstFailure: unknown;
  for (const candidate of [record.current, ...record.archived]) {
    if (!candidate) continue;
    const state = cloneState(candidate);
    try {
      const plaintext = await ratchetDecrypt(ctx, state, message);
      await stores.sessions.storeSession(
        address,
        encodeSessionRecord(promote(record, state, candidate)),
      );
      return plaintext;
    } catch (err) {
      if (err instanceof ParleyError && err.code === "duplicate_message") duplicate ??= err;
      else firstFailure ??= err;
    }
  }
  if (duplicate) throw duplicate;
  throw (
    firstFailure ??
    new ParleyError("decrypt_failed", undefined, { detail: "no session with this device" })
  );
}

async function decryptPrekey(
  ctx: ProtocolContext,
  stores: SessionStores,
  address: ProtocolAddress,
  m: PrekeyMessage,
): Promise<Uint8Array> {
  if (!(await stores.identities.isTrustedIdentity(address.userId, m.senderAccountKey))) {
    throw new ParleyError("untrusted_identity", undefined, {
      detail: `new account key for ${address.userId}`,
    });
  }
  const record = await loadRecord(stores, address);
  // Until the initiator hears back, every message it sends repeats the same PQXDH data:
  // the session already exists, use it.
  const existing = [record.current, ...record.archived].find(
    (s) => s !== undefined && constantTimeEqual(s.baseKey, m.baseKey),
  );
  if (existing) return decryptWithRecord(ctx, stores, address, record, m.message);
  if (await stores.baseKeys.hasSeen(m.baseKey)) {
    throw new ParleyError("decrypt_failed", undefined, {
      detail: "replayed first message (base key seen before)",
    });
  }
  const local = await stores.keys.localIdentity();
  const signedPrekey = await stores.keys.signedPrekey(m.signedPrekeyId);
  const oneTimePrekey =
    m.oneTimePrekeyId === undefined
      ? undefined
      : await stores.keys.oneTimePrekey(m.oneTimePrekeyId);
  const pq = await stores.keys.pqPrekey(m.pqPrekeyId);
  if (!signedPrekey || !pq || (m.oneTimePrekeyId !== undefined && !oneTimePrekey)) {
    throw new ParleyError("decrypt_failed", undefined, { detail: "a prekey it names is gone" });
  }
  const { sharedSecret, associatedData } = await pqxdhRespond(
    ctx,
    local,
    { signedPrekey, oneTimePrekey, pqPrekey: pq.keyPair },
    {
      accountKey: m.senderAccountKey,
      identityKey: m.senderIdentityKey,
      baseKey: m.baseKey,
      kemCiphertext: m.kemCiphertext,
    },
  );
  const state = responderState({
    sharedSecret,
    associatedData,
    remoteAccountKey: m.senderAccountKey,
    remoteIdentityKey: m.senderIdentityKey,
    signedPrekey,
    baseKey: m.baseKey,
  });
  const plaintext = await ratchetDecrypt(ctx, state, decodeRatchetMessage(m.message));
  // Only now, with the first message authenticated, does anything change on disk.
  await stores.sessions.storeSession(address, encodeSessionRecord(promote(record, state)));
  await stores.baseKeys.remember(m.baseKey, m.signedPrekeyId);
  if (m.oneTimePrekeyId !== undefined) await stores.keys.removeOneTimePrekey(m.oneTimePrekeyId);
  if (!pq.lastResort) await stores.keys.removePqPrekey(m.pqPrekeyId);
  return plaintext;
}

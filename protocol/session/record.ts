import {
  ED25519_PUBLIC_KEY_BYTES,
  MLKEM1024_CIPHERTEXT_BYTES,
  X25519_KEY_BYTES,
} from "../crypto/primitives.ts";
import { MAX_PREKEY_ID } from "../identity/prekey.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { MAX_ARCHIVED_STATES, MAX_RECEIVING_CHAINS, MAX_SKIPPED_KEYS_PER_CHAIN } from "./limits.ts";
import { MAX_COUNTER } from "./messages.ts";
import type { ReceivingChain, SessionState } from "./ratchet.ts";

/**
 * Everything a device keeps about its sessions with one remote device: the current state
 * and up to MAX_ARCHIVED_STATES older ones (tried after it, promoted when they decrypt).
 * Stored locally (encrypted at rest by the client's storage), never sent.
 */
export interface SessionRecord {
  current: SessionState | undefined;
  /** Most recent first. */
  archived: SessionState[];
}

const KEY = 32;
const MAX_AD = 4 * (1 + KEY);

function writeState(w: WireWriter, s: SessionState): void {
  w.bytes(s.associatedData, MAX_AD, "associatedData")
    .fixed(s.remoteAccountKey, ED25519_PUBLIC_KEY_BYTES, "remoteAccountKey")
    .fixed(s.remoteIdentityKey, X25519_KEY_BYTES, "remoteIdentityKey")
    .fixed(s.baseKey, X25519_KEY_BYTES, "baseKey")
    .fixed(s.rootKey, KEY, "rootKey")
    .fixed(s.ourRatchetKey.publicKey, X25519_KEY_BYTES, "ourRatchetPublic")
    .fixed(s.ourRatchetKey.secretKey, X25519_KEY_BYTES, "ourRatchetSecret")
    .bool(s.sending !== undefined);
  if (s.sending) w.fixed(s.sending.chainKey, KEY, "sendingChainKey").varint(s.sending.index);
  w.varint(s.previousCounter);
  w.list(s.receiving, MAX_RECEIVING_CHAINS, "receiving", (w2, c) => {
    w2.fixed(c.ratchetKey, X25519_KEY_BYTES, "ratchetKey")
      .fixed(c.chainKey, KEY, "chainKey")
      .varint(c.index);
    w2.list([...c.skipped], MAX_SKIPPED_KEYS_PER_CHAIN, "skipped", (w3, [n, mk]) =>
      w3.varint(n).fixed(mk, KEY, "messageKey"),
    );
  });
  w.bool(s.pending !== undefined);
  if (s.pending) {
    const p = s.pending;
    w.varint(p.signedPrekeyId).bool(p.oneTimePrekeyId !== undefined);
    if (p.oneTimePrekeyId !== undefined) w.varint(p.oneTimePrekeyId);
    w.varint(p.pqPrekeyId).fixed(p.kemCiphertext, MLKEM1024_CIPHERTEXT_BYTES, "kemCiphertext");
  }
}

function readState(r: WireReader): SessionState {
  const s: SessionState = {
    associatedData: r.bytes(MAX_AD, "associatedData"),
    remoteAccountKey: r.fixed(ED25519_PUBLIC_KEY_BYTES, "remoteAccountKey"),
    remoteIdentityKey: r.fixed(X25519_KEY_BYTES, "remoteIdentityKey"),
    baseKey: r.fixed(X25519_KEY_BYTES, "baseKey"),
    rootKey: r.fixed(KEY, "rootKey"),
    ourRatchetKey: {
      publicKey: r.fixed(X25519_KEY_BYTES, "ourRatchetPublic"),
      secretKey: r.fixed(X25519_KEY_BYTES, "ourRatchetSecret"),
    },
    sending: undefined,
    receiving: [],
    previousCounter: 0,
    pending: undefined,
  };
  if (r.bool("hasSending")) {
    s.sending = {
      chainKey: r.fixed(KEY, "sendingChainKey"),
      index: r.varint("sendingIndex", MAX_COUNTER),
    };
  }
  s.previousCounter = r.varint("previousCounter", MAX_COUNTER);
  s.receiving = r.list(MAX_RECEIVING_CHAINS, "receiving", (r2): ReceivingChain => {
    const chain: ReceivingChain = {
      ratchetKey: r2.fixed(X25519_KEY_BYTES, "ratchetKey"),
      chainKey: r2.fixed(KEY, "chainKey"),
      index: r2.varint("index", MAX_COUNTER),
      skipped: new Map(),
    };
    for (const [n, mk] of r2.list(
      MAX_SKIPPED_KEYS_PER_CHAIN,
      "skipped",
      (r3) => [r3.varint("skippedIndex", MAX_COUNTER), r3.fixed(KEY, "messageKey")] as const,
    )) {
      chain.skipped.set(n, mk);
    }
    return chain;
  });
  if (r.bool("hasPending")) {
    const signedPrekeyId = r.varint("signedPrekeyId", MAX_PREKEY_ID);
    const oneTimePrekeyId = r.bool("hasOneTimePrekey")
      ? r.varint("oneTimePrekeyId", MAX_PREKEY_ID)
      : undefined;
    s.pending = {
      signedPrekeyId,
      oneTimePrekeyId,
      pqPrekeyId: r.varint("pqPrekeyId", MAX_PREKEY_ID),
      kemCiphertext: r.fixed(MLKEM1024_CIPHERTEXT_BYTES, "kemCiphertext"),
    };
  }
  return s;
}

/**
 *   01 0c | hasCurrent u8 | [state] | archived: varint count, states
 * (state layout in writeState; secrets included — this never leaves the device).
 */
export function encodeSessionRecord(record: SessionRecord): Uint8Array {
  const w = new WireWriter(WireType.sessionRecord).bool(record.current !== undefined);
  if (record.current) writeState(w, record.current);
  w.list(record.archived, MAX_ARCHIVED_STATES, "archived", writeState);
  return w.finish();
}

/** Decodes a stored record; only ever throws `malformed_message`. */
export function decodeSessionRecord(input: Uint8Array): SessionRecord {
  return decodeWith("session record", () => {
    const r = new WireReader(input, WireType.sessionRecord, "session record");
    const current = r.bool("hasCurrent") ? readState(r) : undefined;
    const archived = r.list(MAX_ARCHIVED_STATES, "archived", readState);
    r.end();
    return { current, archived };
  });
}

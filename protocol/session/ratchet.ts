import { openOnce, sealOnce } from "../crypto/aead.ts";
import { concatBytes, utf8 } from "../crypto/bytes.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { KDF_INFO } from "../crypto/kdf.ts";
import type { KeyPair } from "../crypto/primitives.ts";
import { x25519Agree } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";
import { MAX_FORWARD_JUMP, MAX_RECEIVING_CHAINS, MAX_SKIPPED_KEYS_PER_CHAIN } from "./limits.ts";
import { encodeRatchetHeader, encodeRatchetMessage, type RatchetMessage } from "./messages.ts";

/**
 * The Double Ratchet (Signal's specification, classical: no post-quantum ratchet yet).
 * Root KDF: HKDF-SHA256(salt = root key, ikm = DH output, info "Parley-v1 ratchet root")
 * → 64 bytes = new root key ‖ chain key. Chain KDF: message key = HMAC(chain key, 0x01),
 * next chain key = HMAC(chain key, 0x02). A message key encrypts one message with
 * AES-256-GCM under HKDF(message key, "Parley-v1 ratchet message key") (sealOnce), with the
 * session's associated data ‖ the encoded header as AEAD associated data.
 *
 * These functions work on a SessionState in place; callers run them on a copy and keep the
 * copy only when the whole operation succeeded (session/cipher.ts does).
 */

export interface ReceivingChain {
  ratchetKey: Uint8Array;
  chainKey: Uint8Array;
  /** The next counter expected in this chain. */
  index: number;
  /** Keys of messages skipped over, by counter, oldest first (insertion order). */
  skipped: Map<number, Uint8Array>;
}

/** What the initiator sends with every message until it hears back (see PrekeyMessage). */
export interface PendingPrekey {
  signedPrekeyId: number;
  oneTimePrekeyId: number | undefined;
  pqPrekeyId: number;
  kemCiphertext: Uint8Array;
}

export interface SessionState {
  /** Tagged account and identity keys of initiator then responder (pqxdh.ts). */
  associatedData: Uint8Array;
  remoteAccountKey: Uint8Array;
  remoteIdentityKey: Uint8Array;
  /** The initiator's PQXDH base key: names the session and lets replays be recognized. */
  baseKey: Uint8Array;
  rootKey: Uint8Array;
  ourRatchetKey: KeyPair;
  sending: { chainKey: Uint8Array; index: number } | undefined;
  /** Newest last. */
  receiving: ReceivingChain[];
  previousCounter: number;
  pending: PendingPrekey | undefined;
}

const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);
const ROOT_INFO = utf8(KDF_INFO.ratchetRoot);

async function rootStep(ctx: ProtocolContext, rootKey: Uint8Array, dhOut: Uint8Array) {
  const okm = await ctx.prims.hkdfSha256(dhOut, rootKey, ROOT_INFO, 64);
  return { rootKey: okm.slice(0, 32), chainKey: okm.slice(32) };
}

async function chainStep(ctx: ProtocolContext, chainKey: Uint8Array) {
  const [messageKey, next] = await Promise.all([
    ctx.prims.hmacSha256(chainKey, MESSAGE_KEY_SEED),
    ctx.prims.hmacSha256(chainKey, CHAIN_KEY_SEED),
  ]);
  return { messageKey, chainKey: next };
}

/** The initiator's state right after PQXDH: it can send at once, towards the signed prekey. */
export async function initiatorState(
  ctx: ProtocolContext,
  init: {
    sharedSecret: Uint8Array;
    associatedData: Uint8Array;
    remoteAccountKey: Uint8Array;
    remoteIdentityKey: Uint8Array;
    remoteSignedPrekey: Uint8Array;
    baseKey: Uint8Array;
    pending: PendingPrekey;
  },
): Promise<SessionState> {
  const ourRatchetKey = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const dh = await x25519Agree(
    ctx.prims,
    ourRatchetKey.secretKey,
    init.remoteSignedPrekey,
    "signedPrekey",
  );
  const { rootKey, chainKey } = await rootStep(ctx, init.sharedSecret, dh);
  return {
    associatedData: init.associatedData,
    remoteAccountKey: init.remoteAccountKey,
    remoteIdentityKey: init.remoteIdentityKey,
    baseKey: init.baseKey,
    rootKey,
    ourRatchetKey,
    sending: { chainKey, index: 0 },
    // The signed prekey is the receiving side of the first exchange; no chain yet.
    receiving: [],
    previousCounter: 0,
    pending: init.pending,
  };
}

/** The responder's state after PQXDH: its signed prekey is its first ratchet key. */
export function responderState(init: {
  sharedSecret: Uint8Array;
  associatedData: Uint8Array;
  remoteAccountKey: Uint8Array;
  remoteIdentityKey: Uint8Array;
  signedPrekey: KeyPair;
  baseKey: Uint8Array;
}): SessionState {
  return {
    associatedData: init.associatedData,
    remoteAccountKey: init.remoteAccountKey,
    remoteIdentityKey: init.remoteIdentityKey,
    baseKey: init.baseKey,
    rootKey: init.sharedSecret,
    ourRatchetKey: init.signedPrekey,
    sending: undefined,
    receiving: [],
    previousCounter: 0,
    pending: undefined,
  };
}

/** Encrypts one message and advances the sending chain. */
export async function ratchetEncrypt(
  ctx: ProtocolContext,
  state: SessionState,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  if (!state.sending) throw new Error("this session cannot send before it has received");
  const { messageKey, chainKey } = await chainStep(ctx, state.sending.chainKey);
  const header = {
    ratchetKey: state.ourRatchetKey.publicKey,
    counter: state.sending.index,
    previousCounter: state.previousCounter,
  };
  const aad = concatBytes(state.associatedData, encodeRatchetHeader(header));
  const ciphertext = await sealOnce(ctx.prims, "ratchetMessage", messageKey, plaintext, aad);
  state.sending = { chainKey, index: state.sending.index + 1 };
  return encodeRatchetMessage(header, ciphertext);
}

function findChain(state: SessionState, ratchetKey: Uint8Array): ReceivingChain | undefined {
  return state.receiving.find((c) => constantTimeEqual(c.ratchetKey, ratchetKey));
}

/** Derives and keeps the keys of messages skipped up to counter `until` (exclusive). */
async function skipTo(ctx: ProtocolContext, chain: ReceivingChain, until: number): Promise<void> {
  if (until - chain.index > MAX_FORWARD_JUMP) {
    throw new ParleyError("decrypt_failed", undefined, {
      detail: `jump of ${until - chain.index} messages`,
    });
  }
  while (chain.index < until) {
    const { messageKey, chainKey } = await chainStep(ctx, chain.chainKey);
    chain.skipped.set(chain.index, messageKey);
    chain.chainKey = chainKey;
    chain.index++;
    if (chain.skipped.size > MAX_SKIPPED_KEYS_PER_CHAIN) {
      // Drop the oldest: a message that late is lost, as with libsignal.
      const oldest = chain.skipped.keys().next().value as number;
      chain.skipped.delete(oldest);
    }
  }
}

async function dhRatchetStep(
  ctx: ProtocolContext,
  state: SessionState,
  theirRatchetKey: Uint8Array,
): Promise<ReceivingChain> {
  const { prims } = ctx;
  const received = await rootStep(
    ctx,
    state.rootKey,
    await x25519Agree(prims, state.ourRatchetKey.secretKey, theirRatchetKey, "ratchetKey"),
  );
  const chain: ReceivingChain = {
    ratchetKey: theirRatchetKey,
    chainKey: received.chainKey,
    index: 0,
    skipped: new Map(),
  };
  state.receiving.push(chain);
  if (state.receiving.length > MAX_RECEIVING_CHAINS) state.receiving.shift();
  state.previousCounter = state.sending?.index ?? 0;
  state.ourRatchetKey = await prims.x25519.generateKeyPair(ctx.rng);
  const sent = await rootStep(
    ctx,
    received.rootKey,
    await x25519Agree(prims, state.ourRatchetKey.secretKey, theirRatchetKey, "ratchetKey"),
  );
  state.rootKey = sent.rootKey;
  state.sending = { chainKey: sent.chainKey, index: 0 };
  return chain;
}

/**
 * Decrypts one message, advancing the state. A replay of a message already decrypted is
 * `duplicate_message`; every other failure is `decrypt_failed`.
 */
export async function ratchetDecrypt(
  ctx: ProtocolContext,
  state: SessionState,
  message: RatchetMessage,
): Promise<Uint8Array> {
  let chain = findChain(state, message.ratchetKey);
  let messageKey: Uint8Array | undefined;
  if (chain) {
    messageKey = chain.skipped.get(message.counter);
    if (messageKey) chain.skipped.delete(message.counter);
    else if (message.counter < chain.index) {
      throw new ParleyError("duplicate_message", undefined, {
        detail: `counter ${message.counter} already used`,
      });
    }
  } else {
    // A new ratchet key from the other side: close the current chain up to the sender's
    // previous counter (those messages may still arrive), then step the DH ratchet.
    const current = state.receiving.at(-1);
    if (current) await skipTo(ctx, current, message.previousCounter);
    chain = await dhRatchetStep(ctx, state, message.ratchetKey);
  }
  if (!messageKey) {
    await skipTo(ctx, chain, message.counter);
    const step = await chainStep(ctx, chain.chainKey);
    messageKey = step.messageKey;
    chain.chainKey = step.chainKey;
    chain.index = message.counter + 1;
  }
  const aad = concatBytes(state.associatedData, message.header);
  const plaintext = await openOnce(
    ctx.prims,
    "ratchetMessage",
    messageKey,
    message.ciphertext,
    aad,
  );
  // The other side has heard from us: no need to keep sending PQXDH data.
  state.pending = undefined;
  return plaintext;
}

/** A deep copy, so a failed decryption leaves the stored state untouched. */
export function cloneState(s: SessionState): SessionState {
  return {
    ...s,
    ourRatchetKey: { ...s.ourRatchetKey },
    sending: s.sending && { ...s.sending },
    receiving: s.receiving.map((c) => ({ ...c, skipped: new Map(c.skipped) })),
    pending: s.pending && { ...s.pending },
  };
}

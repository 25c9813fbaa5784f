import {
  ED25519_PUBLIC_KEY_BYTES,
  MLKEM1024_CIPHERTEXT_BYTES,
  X25519_KEY_BYTES,
} from "../crypto/primitives.ts";
import { MAX_PREKEY_ID } from "../identity/prekey.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { MAX_PAIRWISE_PLAINTEXT_BYTES } from "./limits.ts";

/** Chain counters beyond this are refused outright (a chain never gets near it). */
export const MAX_COUNTER = 2 ** 32 - 1;
const MAX_CIPHERTEXT = MAX_PAIRWISE_PLAINTEXT_BYTES + 16;
const MAX_EMBEDDED_MESSAGE = MAX_CIPHERTEXT + 64;

/**
 * A Double Ratchet message:
 *   01 02 | ratchetKey[32] | counter varint | previousCounter varint | ciphertext bytes
 * The bytes before the ciphertext are the header; they are authenticated as associated data.
 */
export interface RatchetMessage {
  ratchetKey: Uint8Array;
  counter: number;
  previousCounter: number;
  ciphertext: Uint8Array;
  /** The encoded header (everything before the ciphertext), for the associated data. */
  header: Uint8Array;
}

export function encodeRatchetHeader(h: {
  ratchetKey: Uint8Array;
  counter: number;
  previousCounter: number;
}): Uint8Array {
  return new WireWriter(WireType.ratchetMessage)
    .fixed(h.ratchetKey, X25519_KEY_BYTES, "ratchetKey")
    .varint(h.counter)
    .varint(h.previousCounter)
    .finish();
}

/** The whole message: its header (as `encodeRatchetHeader` gives it) then the ciphertext. */
export function encodeRatchetMessage(
  h: { ratchetKey: Uint8Array; counter: number; previousCounter: number },
  ciphertext: Uint8Array,
): Uint8Array {
  return new WireWriter(WireType.ratchetMessage)
    .fixed(h.ratchetKey, X25519_KEY_BYTES, "ratchetKey")
    .varint(h.counter)
    .varint(h.previousCounter)
    .bytes(ciphertext, MAX_CIPHERTEXT, "ciphertext")
    .finish();
}

/** Decodes a ratchet message; only ever throws `malformed_message`. */
export function decodeRatchetMessage(input: Uint8Array): RatchetMessage {
  return decodeWith("ratchet message", () => {
    const r = new WireReader(input, WireType.ratchetMessage, "ratchet message");
    const ratchetKey = r.fixed(X25519_KEY_BYTES, "ratchetKey");
    const counter = r.varint("counter", MAX_COUNTER);
    const previousCounter = r.varint("previousCounter", MAX_COUNTER);
    const headerLength = input.length - r.remaining();
    const ciphertext = r.bytes(MAX_CIPHERTEXT, "ciphertext");
    r.end();
    return {
      ratchetKey,
      counter,
      previousCounter,
      ciphertext,
      header: input.slice(0, headerLength),
    };
  });
}

/**
 * The first messages of a session, until the initiator hears back, carry what the responder
 * needs to run PQXDH:
 *   01 01 | signedPrekeyId varint | hasOneTimePrekey u8 | [oneTimePrekeyId varint]
 *         | pqPrekeyId varint | baseKey[32] | kemCiphertext[1568]
 *         | senderAccountKey[32] | senderIdentityKey[32] | message bytes (a ratchet message)
 */
export interface PrekeyMessage {
  signedPrekeyId: number;
  oneTimePrekeyId: number | undefined;
  pqPrekeyId: number;
  baseKey: Uint8Array;
  kemCiphertext: Uint8Array;
  senderAccountKey: Uint8Array;
  senderIdentityKey: Uint8Array;
  message: Uint8Array;
}

export function encodePrekeyMessage(m: PrekeyMessage): Uint8Array {
  const w = new WireWriter(WireType.prekeyMessage)
    .varint(m.signedPrekeyId)
    .bool(m.oneTimePrekeyId !== undefined);
  if (m.oneTimePrekeyId !== undefined) w.varint(m.oneTimePrekeyId);
  return w
    .varint(m.pqPrekeyId)
    .fixed(m.baseKey, X25519_KEY_BYTES, "baseKey")
    .fixed(m.kemCiphertext, MLKEM1024_CIPHERTEXT_BYTES, "kemCiphertext")
    .fixed(m.senderAccountKey, ED25519_PUBLIC_KEY_BYTES, "senderAccountKey")
    .fixed(m.senderIdentityKey, X25519_KEY_BYTES, "senderIdentityKey")
    .bytes(m.message, MAX_EMBEDDED_MESSAGE, "message")
    .finish();
}

/** Decodes a prekey message (not its embedded ratchet message); only throws `malformed_message`. */
export function decodePrekeyMessage(input: Uint8Array): PrekeyMessage {
  return decodeWith("prekey message", () => {
    const r = new WireReader(input, WireType.prekeyMessage, "prekey message");
    const signedPrekeyId = r.varint("signedPrekeyId", MAX_PREKEY_ID);
    const oneTimePrekeyId = r.bool("hasOneTimePrekey")
      ? r.varint("oneTimePrekeyId", MAX_PREKEY_ID)
      : undefined;
    const m: PrekeyMessage = {
      signedPrekeyId,
      oneTimePrekeyId,
      pqPrekeyId: r.varint("pqPrekeyId", MAX_PREKEY_ID),
      baseKey: r.fixed(X25519_KEY_BYTES, "baseKey"),
      kemCiphertext: r.fixed(MLKEM1024_CIPHERTEXT_BYTES, "kemCiphertext"),
      senderAccountKey: r.fixed(ED25519_PUBLIC_KEY_BYTES, "senderAccountKey"),
      senderIdentityKey: r.fixed(X25519_KEY_BYTES, "senderIdentityKey"),
      message: r.bytes(MAX_EMBEDDED_MESSAGE, "message"),
    };
    r.end();
    return m;
  });
}

import { ED25519_PUBLIC_KEY_BYTES, ED25519_SIGNATURE_BYTES } from "../crypto/primitives.ts";
import {
  type ConversationId,
  type DeviceId,
  readId,
  type UserId,
  writeId,
} from "../identity/ids.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";

/** Largest plaintext of one conversation message (the server's own limit is lower). */
export const MAX_GROUP_PLAINTEXT_BYTES = 1024 * 1024;
const MAX_GROUP_CIPHERTEXT = MAX_GROUP_PLAINTEXT_BYTES + 16;
/** Key versions, counters and epochs are bounded like chain counters. */
export const MAX_SENDER_KEY_NUMBER = 2 ** 32 - 1;
const KEY = 32;

/** Whose sender key: the conversation and the sending device. */
export interface SenderRef {
  conversationId: ConversationId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
}

/** Writes conversationId ‖ senderUserId ‖ senderDeviceId (three ids). */
export function writeSenderRef(w: WireWriter, ref: SenderRef): WireWriter {
  writeId(w, ref.conversationId, "conversationId");
  writeId(w, ref.senderUserId, "senderUserId");
  writeId(w, ref.senderDeviceId, "senderDeviceId");
  return w;
}

/** Reads what writeSenderRef wrote. */
export function readSenderRef(r: WireReader): SenderRef {
  return {
    conversationId: readId<ConversationId>(r, "conversationId"),
    senderUserId: readId<UserId>(r, "senderUserId"),
    senderDeviceId: readId<DeviceId>(r, "senderDeviceId"),
  };
}

/** Who sent a conversation message, and where: every field is signed. */
export interface SenderKeyMessageHeader {
  conversationId: ConversationId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  keyVersion: number;
  counter: number;
  clientMessageId: string;
  membershipEpoch: number;
}

export interface SenderKeyMessage extends SenderKeyMessageHeader {
  ciphertext: Uint8Array;
  signature: Uint8Array;
  /** Everything before the ciphertext: the AEAD's associated data. */
  header: Uint8Array;
  /** Everything before the signature: what the signature covers. */
  signed: Uint8Array;
}

/**
 *   01 03 | conversationId | senderUserId | senderDeviceId | keyVersion varint | counter varint
 *         | clientMessageId | membershipEpoch varint   (= header, the AEAD associated data)
 *         | ciphertext bytes | signature[64] over "Parley-v1 sender key message" ‖ 00 ‖ all before it
 * Ids are canonical UUID strings (protocol/identity/ids.ts).
 */
export function encodeSenderKeyHeader(h: SenderKeyMessageHeader): Uint8Array {
  return writeHeader(new WireWriter(WireType.senderKeyMessage), h).finish();
}

function writeHeader(w: WireWriter, h: SenderKeyMessageHeader): WireWriter {
  writeSenderRef(w, h).varint(h.keyVersion).varint(h.counter);
  writeId(w, h.clientMessageId, "clientMessageId");
  return w.varint(h.membershipEpoch);
}

/** The encoding without its signature (what gets signed). */
export function encodeSenderKeyMessageUnsigned(
  h: SenderKeyMessageHeader,
  ciphertext: Uint8Array,
): Uint8Array {
  return writeHeader(new WireWriter(WireType.senderKeyMessage), h)
    .bytes(ciphertext, MAX_GROUP_CIPHERTEXT, "ciphertext")
    .finish();
}

/** Decodes a conversation message; only ever throws `malformed_message`. */
export function decodeSenderKeyMessage(input: Uint8Array): SenderKeyMessage {
  return decodeWith("sender key message", () => {
    const r = new WireReader(input, WireType.senderKeyMessage, "sender key message");
    const h: SenderKeyMessageHeader = {
      ...readSenderRef(r),
      keyVersion: r.varint("keyVersion", MAX_SENDER_KEY_NUMBER),
      counter: r.varint("counter", MAX_SENDER_KEY_NUMBER),
      clientMessageId: readId(r, "clientMessageId"),
      membershipEpoch: r.varint("membershipEpoch", MAX_SENDER_KEY_NUMBER),
    };
    const headerLength = input.length - r.remaining();
    const ciphertext = r.bytes(MAX_GROUP_CIPHERTEXT, "ciphertext");
    const signedLength = input.length - r.remaining();
    const signature = r.fixed(ED25519_SIGNATURE_BYTES, "signature");
    r.end();
    return {
      ...h,
      ciphertext,
      signature,
      header: input.slice(0, headerLength),
      signed: input.slice(0, signedLength),
    };
  });
}

/**
 * A sender key as handed to one recipient device (inside a key header, a re-share answer or
 * the provisioning message):
 *   01 04 | conversationId | senderUserId | senderDeviceId | keyVersion varint
 *         | iteration varint (the first counter this copy can decrypt) | chainKey[32]
 *         | signingKey[32] (Ed25519 public) | membershipEpoch varint
 *         | membershipLogHash[32] | deviceListVersion varint (the sender's)
 */
export interface SenderKeyDistribution {
  conversationId: ConversationId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  keyVersion: number;
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array;
  membershipEpoch: number;
  membershipLogHash: Uint8Array;
  deviceListVersion: number;
}

export function writeDistribution(w: WireWriter, d: SenderKeyDistribution): WireWriter {
  return writeSenderRef(w, d)
    .varint(d.keyVersion)
    .varint(d.iteration)
    .fixed(d.chainKey, KEY, "chainKey")
    .fixed(d.signingKey, ED25519_PUBLIC_KEY_BYTES, "signingKey")
    .varint(d.membershipEpoch)
    .fixed(d.membershipLogHash, KEY, "membershipLogHash")
    .varint(d.deviceListVersion);
}

export function readDistribution(r: WireReader): SenderKeyDistribution {
  return {
    ...readSenderRef(r),
    keyVersion: r.varint("keyVersion", MAX_SENDER_KEY_NUMBER),
    iteration: r.varint("iteration", MAX_SENDER_KEY_NUMBER),
    chainKey: r.fixed(KEY, "chainKey"),
    signingKey: r.fixed(ED25519_PUBLIC_KEY_BYTES, "signingKey"),
    membershipEpoch: r.varint("membershipEpoch", MAX_SENDER_KEY_NUMBER),
    membershipLogHash: r.fixed(KEY, "membershipLogHash"),
    deviceListVersion: r.varint("deviceListVersion", MAX_SENDER_KEY_NUMBER),
  };
}

export function encodeSenderKeyDistribution(d: SenderKeyDistribution): Uint8Array {
  return writeDistribution(new WireWriter(WireType.senderKeyDistribution), d).finish();
}

/** Decodes a distribution; only ever throws `malformed_message`. */
export function decodeSenderKeyDistribution(input: Uint8Array): SenderKeyDistribution {
  return decodeWith("sender key distribution", () => {
    const r = new WireReader(input, WireType.senderKeyDistribution, "sender key distribution");
    const d = readDistribution(r);
    r.end();
    return d;
  });
}

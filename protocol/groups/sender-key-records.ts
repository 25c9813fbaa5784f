import { ED25519_PUBLIC_KEY_BYTES, ED25519_SECRET_KEY_BYTES } from "../crypto/primitives.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import {
  type OwnSenderKey,
  type ReceivedSenderKey,
  SENDER_KEY_MAX_SKIPPED,
  SENDER_KEY_VERSIONS_KEPT,
  type SenderKeyRecord,
} from "./sender-key.ts";
import { MAX_SENDER_KEY_NUMBER, readSenderRef, writeSenderRef } from "./sender-key-wire.ts";

const KEY = 32;

/**
 * Local storage of sender keys (never sent; secrets included).
 * Received:  01 0d | highestVersion varint | versions: count, each
 *   keyVersion | membershipEpoch | membershipLogHash[32] | deviceListVersion | signingKey[32]
 *   | chainKey[32] | iteration | skipped: count, (counter, key[32])… | closed u8 [closedAt varint]
 * Own:       01 11 | conversationId | senderUserId | senderDeviceId | keyVersion | chainKey[32]
 *   | iteration | signing public[32] | signing secret[32] | membershipEpoch
 *   | membershipLogHash[32] | deviceListVersion | createdAt
 */
export function encodeSenderKeyRecord(record: SenderKeyRecord): Uint8Array {
  return new WireWriter(WireType.senderKeyRecord)
    .varint(record.highestVersion)
    .list(record.versions, SENDER_KEY_VERSIONS_KEPT, "versions", (w, v) => {
      w.varint(v.keyVersion)
        .varint(v.membershipEpoch)
        .fixed(v.membershipLogHash, KEY, "membershipLogHash")
        .varint(v.deviceListVersion)
        .fixed(v.signingKey, ED25519_PUBLIC_KEY_BYTES, "signingKey")
        .fixed(v.chainKey, KEY, "chainKey")
        .varint(v.iteration)
        .list([...v.skipped], SENDER_KEY_MAX_SKIPPED, "skipped", (w2, [n, k]) =>
          w2.varint(n).fixed(k, KEY, "messageKey"),
        )
        .bool(v.closedAt !== undefined);
      if (v.closedAt !== undefined) w.varint(Math.max(0, v.closedAt));
    })
    .finish();
}

/** Decodes a stored record; only ever throws `malformed_message`. */
export function decodeSenderKeyRecord(input: Uint8Array): SenderKeyRecord {
  return decodeWith("sender key record", () => {
    const r = new WireReader(input, WireType.senderKeyRecord, "sender key record");
    const highestVersion = r.varint("highestVersion", MAX_SENDER_KEY_NUMBER);
    const versions = r.list(SENDER_KEY_VERSIONS_KEPT, "versions", (r2): ReceivedSenderKey => {
      const v: ReceivedSenderKey = {
        keyVersion: r2.varint("keyVersion", MAX_SENDER_KEY_NUMBER),
        membershipEpoch: r2.varint("membershipEpoch", MAX_SENDER_KEY_NUMBER),
        membershipLogHash: r2.fixed(KEY, "membershipLogHash"),
        deviceListVersion: r2.varint("deviceListVersion", MAX_SENDER_KEY_NUMBER),
        signingKey: r2.fixed(ED25519_PUBLIC_KEY_BYTES, "signingKey"),
        chainKey: r2.fixed(KEY, "chainKey"),
        iteration: r2.varint("iteration", MAX_SENDER_KEY_NUMBER),
        skipped: new Map(
          r2.list(
            SENDER_KEY_MAX_SKIPPED,
            "skipped",
            (r3) =>
              [r3.varint("counter", MAX_SENDER_KEY_NUMBER), r3.fixed(KEY, "messageKey")] as const,
          ),
        ),
        closedAt: undefined,
      };
      if (r2.bool("closed")) v.closedAt = r2.varint("closedAt");
      return v;
    });
    r.end();
    return { highestVersion, versions };
  });
}

export function encodeOwnSenderKey(own: OwnSenderKey): Uint8Array {
  const w = new WireWriter(WireType.ownSenderKey);
  return writeSenderRef(w, own)
    .varint(own.keyVersion)
    .fixed(own.chainKey, KEY, "chainKey")
    .varint(own.iteration)
    .fixed(own.signingKeyPair.publicKey, ED25519_PUBLIC_KEY_BYTES, "signingPublicKey")
    .fixed(own.signingKeyPair.secretKey, ED25519_SECRET_KEY_BYTES, "signingSecretKey")
    .varint(own.membershipEpoch)
    .fixed(own.membershipLogHash, KEY, "membershipLogHash")
    .varint(own.deviceListVersion)
    .varint(own.createdAt)
    .finish();
}

/** Decodes a stored own key; only ever throws `malformed_message`. */
export function decodeOwnSenderKey(input: Uint8Array): OwnSenderKey {
  return decodeWith("own sender key", () => {
    const r = new WireReader(input, WireType.ownSenderKey, "own sender key");
    const own: OwnSenderKey = {
      ...readSenderRef(r),
      keyVersion: r.varint("keyVersion", MAX_SENDER_KEY_NUMBER),
      chainKey: r.fixed(KEY, "chainKey"),
      iteration: r.varint("iteration", MAX_SENDER_KEY_NUMBER),
      signingKeyPair: {
        publicKey: r.fixed(ED25519_PUBLIC_KEY_BYTES, "signingPublicKey"),
        secretKey: r.fixed(ED25519_SECRET_KEY_BYTES, "signingSecretKey"),
      },
      membershipEpoch: r.varint("membershipEpoch", MAX_SENDER_KEY_NUMBER),
      membershipLogHash: r.fixed(KEY, "membershipLogHash"),
      deviceListVersion: r.varint("deviceListVersion", MAX_SENDER_KEY_NUMBER),
      createdAt: r.varint("createdAt"),
    };
    r.end();
    return own;
  });
}

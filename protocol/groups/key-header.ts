import { openOnce, sealOnce } from "../crypto/aead.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { X25519_KEY_BYTES } from "../crypto/primitives.ts";
import { x25519Agree } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";
import { type DeviceId, readId, type UserId, writeId } from "../identity/ids.ts";
import { MAX_PREKEY_ID } from "../identity/prekey.ts";
import { decryptPairwise, encryptPairwise } from "../session/cipher.ts";
import type { ProtocolAddress, SessionStores } from "../session/stores.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import {
  readDistribution,
  type SenderKeyDistribution,
  writeDistribution,
} from "./sender-key-wire.ts";

/**
 * Key headers carry a new sender key to one recipient device inside the message that
 * starts it, so a message never arrives before its key. Two layers:
 * - inside, the content (distribution + recipient + carrying message id) is encrypted through
 *   the pairwise session with that device (prekey or ratchet message);
 * - outside, that pairwise message is sealed again under a fresh ephemeral X25519 agreement
 *   with the recipient's current signed prekey (sealOnce, "Parley-v1 key header"), so a
 *   passive thief holding an old copy of the recipient's state reads no header sent after
 *   the recipient rotates its signed prekey, even when the pairwise session has been idle.
 */

/** Largest pairwise message a header wraps: a prekey message with a distribution inside. */
const MAX_HEADER_PAYLOAD = 4096;

export interface KeyHeaderContent {
  distribution: SenderKeyDistribution;
  recipientUserId: UserId;
  recipientDeviceId: DeviceId;
  /** The client id of the message carrying the header. */
  messageId: string;
}

/**   01 10 | distribution fields (as 01 04) | recipientUserId | recipientDeviceId | messageId */
export function encodeKeyHeaderContent(c: KeyHeaderContent): Uint8Array {
  const w = writeDistribution(new WireWriter(WireType.keyHeaderContent), c.distribution);
  writeId(w, c.recipientUserId, "recipientUserId");
  writeId(w, c.recipientDeviceId, "recipientDeviceId");
  writeId(w, c.messageId, "messageId");
  return w.finish();
}

export function decodeKeyHeaderContent(input: Uint8Array): KeyHeaderContent {
  return decodeWith("key header content", () => {
    const r = new WireReader(input, WireType.keyHeaderContent, "key header content");
    const c: KeyHeaderContent = {
      distribution: readDistribution(r),
      recipientUserId: readId<UserId>(r, "recipientUserId"),
      recipientDeviceId: readId<DeviceId>(r, "recipientDeviceId"),
      messageId: readId(r, "messageId"),
    };
    r.end();
    return c;
  });
}

/**   01 05 | recipientUserId | recipientDeviceId | signedPrekeyId varint | ephemeralKey[32]
 *        | ciphertext bytes (the pairwise message, sealed; all before it is the AAD) */
export interface KeyHeader {
  recipientUserId: UserId;
  recipientDeviceId: DeviceId;
  signedPrekeyId: number;
  ephemeralKey: Uint8Array;
  ciphertext: Uint8Array;
  /** Everything before the ciphertext (authenticated as associated data). */
  prefix: Uint8Array;
}

function encodePrefix(h: Omit<KeyHeader, "ciphertext" | "prefix">): WireWriter {
  const w = new WireWriter(WireType.keyHeader);
  writeId(w, h.recipientUserId, "recipientUserId");
  writeId(w, h.recipientDeviceId, "recipientDeviceId");
  return w.varint(h.signedPrekeyId).fixed(h.ephemeralKey, X25519_KEY_BYTES, "ephemeralKey");
}

export function decodeKeyHeader(input: Uint8Array): KeyHeader {
  return decodeWith("key header", () => {
    const r = new WireReader(input, WireType.keyHeader, "key header");
    const recipientUserId = readId<UserId>(r, "recipientUserId");
    const recipientDeviceId = readId<DeviceId>(r, "recipientDeviceId");
    const signedPrekeyId = r.varint("signedPrekeyId", MAX_PREKEY_ID);
    const ephemeralKey = r.fixed(X25519_KEY_BYTES, "ephemeralKey");
    const prefix = input.slice(0, input.length - r.remaining());
    const ciphertext = r.bytes(MAX_HEADER_PAYLOAD + 16, "ciphertext");
    r.end();
    return { recipientUserId, recipientDeviceId, signedPrekeyId, ephemeralKey, ciphertext, prefix };
  });
}

/**
 * Seals a key header for one recipient device. A pairwise session with it must exist
 * (session/cipher.ts initiateSession); `recipientSignedPrekey` is its current, verified one.
 */
export async function sealKeyHeader(
  ctx: ProtocolContext,
  stores: SessionStores,
  recipient: ProtocolAddress & { signedPrekey: { keyId: number; publicKey: Uint8Array } },
  content: KeyHeaderContent,
): Promise<Uint8Array> {
  const address = { userId: recipient.userId, deviceId: recipient.deviceId };
  const pairwise = await encryptPairwise(ctx, stores, address, encodeKeyHeaderContent(content));
  const ephemeral = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const secret = await x25519Agree(
    ctx.prims,
    ephemeral.secretKey,
    recipient.signedPrekey.publicKey,
    "signedPrekey",
  );
  const fields = {
    recipientUserId: content.recipientUserId,
    recipientDeviceId: content.recipientDeviceId,
    signedPrekeyId: recipient.signedPrekey.keyId,
    ephemeralKey: ephemeral.publicKey,
  };
  const ciphertext = await sealOnce(
    ctx.prims,
    "keyHeader",
    secret,
    pairwise.body,
    encodePrefix(fields).finish(),
  );
  return encodePrefix(fields)
    .bytes(ciphertext, MAX_HEADER_PAYLOAD + 16, "ciphertext")
    .finish();
}

/**
 * Opens a key header addressed to this device, from the device that sent the carrying
 * message, and returns the sender key it carries (install it with installDistribution).
 * Every failure is `decrypt_failed`, except `duplicate_message` and `untrusted_identity`
 * from the pairwise layer.
 */
export async function openKeyHeader(
  ctx: ProtocolContext,
  stores: SessionStores,
  sender: ProtocolAddress,
  expected: { conversationId: string; messageId: string },
  body: Uint8Array,
): Promise<SenderKeyDistribution> {
  try {
    const header = decodeKeyHeader(body);
    const me = await stores.keys.localIdentity();
    const fail = (detail: string) => new ParleyError("decrypt_failed", undefined, { detail });
    if (header.recipientUserId !== me.userId || header.recipientDeviceId !== me.deviceId)
      throw fail("addressed to another device");
    const signedPrekey = await stores.keys.signedPrekey(header.signedPrekeyId);
    if (!signedPrekey) throw fail(`signed prekey ${header.signedPrekeyId} is gone`);
    const secret = await x25519Agree(
      ctx.prims,
      signedPrekey.secretKey,
      header.ephemeralKey,
      "ephemeralKey",
    );
    const pairwise = await openOnce(
      ctx.prims,
      "keyHeader",
      secret,
      header.ciphertext,
      header.prefix,
    );
    const content = decodeKeyHeaderContent(await decryptPairwise(ctx, stores, sender, pairwise));
    const d = content.distribution;
    if (content.recipientUserId !== me.userId || content.recipientDeviceId !== me.deviceId)
      throw fail("inner recipient differs");
    if (d.senderUserId !== sender.userId || d.senderDeviceId !== sender.deviceId)
      throw fail("sent by another device than it claims");
    if (d.conversationId !== expected.conversationId || content.messageId !== expected.messageId) {
      throw fail("moved to another conversation or message");
    }
    return d;
  } catch (err) {
    if (
      err instanceof ParleyError &&
      (err.code === "duplicate_message" || err.code === "untrusted_identity")
    )
      throw err;
    const detail =
      err instanceof ParleyError ? `${err.code}: ${err.detail ?? err.message}` : String(err);
    throw new ParleyError("decrypt_failed", undefined, { detail, cause: err });
  }
}

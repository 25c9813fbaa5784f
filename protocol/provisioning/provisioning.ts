import { openOnce, sealOnce } from "../crypto/aead.ts";
import { concatBytes } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SECRET_KEY_BYTES,
  type KeyPair,
  X25519_KEY_BYTES,
} from "../crypto/primitives.ts";
import { x25519Agree } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";
import {
  readDistribution,
  type SenderKeyDistribution,
  writeDistribution,
} from "../groups/sender-key-wire.ts";
import { readId, type UserId, writeId } from "../identity/ids.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { encodeLinkCode } from "./link-code.ts";

/**
 * Linking a new device: the new device shows a link code (its ephemeral X25519 public key);
 * an existing device that holds the account key seals a provisioning message to it:
 *   envelope  01 06 | ephemeralKey[32] | ciphertext bytes
 *   secret    X25519(ephemeral, link key); sealOnce("Parley-v1 provisioning", secret, …) with
 *             associated data = everything before the ciphertext ‖ the link key
 *   content   01 07 | userId | accountSecretKey[32] | accountPublicKey[32] | profileKey[32]
 *             | deviceList bytes (the newest signed list the old device knows)
 *             | senderKeys: count, distributions (fields as 01 04) | createdAt varint
 * The sender keys are those the linking device holds (received and its own), so the new
 * device can read the history it fetches. Nothing here reaches the server in clear.
 */
export const MAX_PROVISIONED_SENDER_KEYS = 10_000;
const MAX_CONTENT_BYTES = 8 * 1024 * 1024;
const PROFILE_KEY_BYTES = 32;
/** 16 certificates of ≤ 216 bytes and the list's own fields fit well within this. */
const MAX_DEVICE_LIST_BYTES = 8192;

export interface ProvisioningContent {
  userId: UserId;
  accountKeyPair: KeyPair;
  profileKey: Uint8Array;
  /** The account's newest device list (encoded, signed): the new device adds itself to it. */
  deviceList: Uint8Array;
  senderKeys: SenderKeyDistribution[];
  createdAt: number;
}

export function encodeProvisioningContent(c: ProvisioningContent): Uint8Array {
  const w = new WireWriter(WireType.provisioningMessage);
  writeId(w, c.userId, "userId");
  return w
    .fixed(c.accountKeyPair.secretKey, ED25519_SECRET_KEY_BYTES, "accountSecretKey")
    .fixed(c.accountKeyPair.publicKey, ED25519_PUBLIC_KEY_BYTES, "accountPublicKey")
    .fixed(c.profileKey, PROFILE_KEY_BYTES, "profileKey")
    .bytes(c.deviceList, MAX_DEVICE_LIST_BYTES, "deviceList")
    .list(c.senderKeys, MAX_PROVISIONED_SENDER_KEYS, "senderKeys", writeDistribution)
    .varint(c.createdAt)
    .finish();
}

export function decodeProvisioningContent(input: Uint8Array): ProvisioningContent {
  return decodeWith("provisioning message", () => {
    const r = new WireReader(input, WireType.provisioningMessage, "provisioning message");
    const c: ProvisioningContent = {
      userId: readId<UserId>(r, "userId"),
      accountKeyPair: {
        secretKey: r.fixed(ED25519_SECRET_KEY_BYTES, "accountSecretKey"),
        publicKey: r.fixed(ED25519_PUBLIC_KEY_BYTES, "accountPublicKey"),
      },
      profileKey: r.fixed(PROFILE_KEY_BYTES, "profileKey"),
      deviceList: r.bytes(MAX_DEVICE_LIST_BYTES, "deviceList"),
      senderKeys: r.list(MAX_PROVISIONED_SENDER_KEYS, "senderKeys", readDistribution),
      createdAt: r.varint("createdAt"),
    };
    r.end();
    return c;
  });
}

/** The new device's side: an ephemeral key pair and the code to show for it. */
export async function createLinkRequest(
  ctx: ProtocolContext,
): Promise<{ keyPair: KeyPair; code: string }> {
  const keyPair = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  return { keyPair, code: encodeLinkCode(keyPair.publicKey) };
}

function prefix(ephemeralKey: Uint8Array): WireWriter {
  return new WireWriter(WireType.provisioningEnvelope).fixed(
    ephemeralKey,
    X25519_KEY_BYTES,
    "ephemeralKey",
  );
}

/** The existing device's side: seals the content to the key read from the link code. */
export async function sealProvisioning(
  ctx: ProtocolContext,
  linkKey: Uint8Array,
  content: ProvisioningContent,
): Promise<Uint8Array> {
  const ephemeral = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const secret = await x25519Agree(ctx.prims, ephemeral.secretKey, linkKey, "linkKey");
  const aad = concatBytes(prefix(ephemeral.publicKey).finish(), linkKey);
  const ciphertext = await sealOnce(
    ctx.prims,
    "provisioning",
    secret,
    encodeProvisioningContent(content),
    aad,
  );
  return prefix(ephemeral.publicKey)
    .bytes(ciphertext, MAX_CONTENT_BYTES + 16, "ciphertext")
    .finish();
}

/** Splits an envelope; only ever throws `malformed_message`. `head` is its associated data. */
export function decodeProvisioningEnvelope(envelope: Uint8Array): {
  ephemeralKey: Uint8Array;
  ciphertext: Uint8Array;
  head: Uint8Array;
} {
  return decodeWith("provisioning envelope", () => {
    const r = new WireReader(envelope, WireType.provisioningEnvelope, "provisioning envelope");
    const ephemeralKey = r.fixed(X25519_KEY_BYTES, "ephemeralKey");
    const head = envelope.slice(0, envelope.length - r.remaining());
    const ciphertext = r.bytes(MAX_CONTENT_BYTES + 16, "ciphertext");
    r.end();
    return { ephemeralKey, ciphertext, head };
  });
}

/**
 * The new device's side: opens the envelope with its link key pair. Any failure is
 * `decrypt_failed`; the account key pair inside is checked to be a pair.
 */
export async function openProvisioning(
  ctx: ProtocolContext,
  linkKeyPair: KeyPair,
  envelope: Uint8Array,
): Promise<ProvisioningContent> {
  try {
    const { ephemeralKey, ciphertext, head } = decodeProvisioningEnvelope(envelope);
    const secret = await x25519Agree(
      ctx.prims,
      linkKeyPair.secretKey,
      ephemeralKey,
      "ephemeralKey",
    );
    const plaintext = await openOnce(
      ctx.prims,
      "provisioning",
      secret,
      ciphertext,
      concatBytes(head, linkKeyPair.publicKey),
    );
    const content = decodeProvisioningContent(plaintext);
    const probe = Uint8Array.of(1, 2, 3);
    const signature = await ctx.prims.ed25519.sign(content.accountKeyPair.secretKey, probe);
    if (!(await ctx.prims.ed25519.verify(content.accountKeyPair.publicKey, probe, signature))) {
      throw new ParleyError("decrypt_failed", undefined, {
        detail: "account key pair does not match",
      });
    }
    return content;
  } catch (err) {
    const detail =
      err instanceof ParleyError ? `${err.code}: ${err.detail ?? err.message}` : String(err);
    throw new ParleyError("decrypt_failed", undefined, { detail, cause: err });
  }
}

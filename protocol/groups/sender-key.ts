import { sealOnce } from "../crypto/aead.ts";
import { concatBytes } from "../crypto/bytes.ts";
import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import type { KeyPair } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import type { ConversationId, DeviceId, UserId } from "../identity/ids.ts";
import { signBody } from "../identity/signed.ts";
import {
  encodeSenderKeyHeader,
  encodeSenderKeyMessageUnsigned,
  type SenderKeyDistribution,
  type SenderKeyMessageHeader,
} from "./sender-key-wire.ts";

/**
 * Sender keys: each device encrypts a conversation message once, with its own sender key for
 * that conversation — a hash-ratchet chain (message key = HMAC(chain key, 0x01), next chain
 * key = HMAC(chain key, 0x02), as libsignal's) and an Ed25519 key pair that signs every
 * message. Recipients hold the chain from the iteration they were given and the public half.
 */

/** Skipped message keys kept per key version. */
export const SENDER_KEY_MAX_SKIPPED = 2_000;
/** A message further ahead than this in one chain is refused. */
export const SENDER_KEY_MAX_FORWARD_JUMP = 25_000;
/** Key versions kept per sender device and conversation (newest first). */
export const SENDER_KEY_VERSIONS_KEPT = 5;
/** A closed key version still accepts messages the server received this long after. */
export const SENDER_KEY_GRACE_MS = 10 * 60 * 1000;
/** Group rotation defaults (DESIGN.md): after 100 messages or 7 days, whichever first. */
export const GROUP_ROTATE_AFTER_MESSAGES = 100;
export const GROUP_ROTATE_AFTER_MS = 7 * 24 * 60 * 60 * 1000;

const MESSAGE_KEY_SEED = Uint8Array.of(0x01);
const CHAIN_KEY_SEED = Uint8Array.of(0x02);

/** One step of a sender-key chain: the message key and the next chain key. */
export async function chainStep(ctx: ProtocolContext, chainKey: Uint8Array) {
  const [messageKey, next] = await Promise.all([
    ctx.prims.hmacSha256(chainKey, MESSAGE_KEY_SEED),
    ctx.prims.hmacSha256(chainKey, CHAIN_KEY_SEED),
  ]);
  return { messageKey, chainKey: next };
}

/** This device's sender key for one conversation (secrets included; stays on the device). */
export interface OwnSenderKey {
  conversationId: ConversationId;
  senderUserId: UserId;
  senderDeviceId: DeviceId;
  keyVersion: number;
  chainKey: Uint8Array;
  /** The counter of the next message. */
  iteration: number;
  signingKeyPair: KeyPair;
  membershipEpoch: number;
  membershipLogHash: Uint8Array;
  deviceListVersion: number;
  createdAt: number;
}

/**
 * A new sender key for a conversation. Versions only go up: pass the previous version (0 for
 * the first key), and the membership state it is for.
 */
export async function createSenderKey(
  ctx: ProtocolContext,
  init: {
    conversationId: ConversationId;
    senderUserId: UserId;
    senderDeviceId: DeviceId;
    previousVersion: number;
    membershipEpoch: number;
    membershipLogHash: Uint8Array;
    deviceListVersion: number;
  },
): Promise<OwnSenderKey> {
  const { previousVersion, ...rest } = init;
  return {
    ...rest,
    keyVersion: previousVersion + 1,
    chainKey: ctx.rng(32),
    iteration: 0,
    signingKeyPair: await ctx.prims.ed25519.generateKeyPair(ctx.rng),
    createdAt: ctx.now(),
  };
}

/** The distribution of an own key as it stands now (recipients start at its iteration). */
export function distributionOf(own: OwnSenderKey): SenderKeyDistribution {
  return {
    conversationId: own.conversationId,
    senderUserId: own.senderUserId,
    senderDeviceId: own.senderDeviceId,
    keyVersion: own.keyVersion,
    iteration: own.iteration,
    chainKey: own.chainKey,
    signingKey: own.signingKeyPair.publicKey,
    membershipEpoch: own.membershipEpoch,
    membershipLogHash: own.membershipLogHash,
    deviceListVersion: own.deviceListVersion,
  };
}

/**
 * Whether a group's sender key is due for rotation by age or use. Direct conversations
 * rotate at every turn and every key rotates on a membership or device change: the sdk
 * decides those, this only answers the periodic rule.
 */
export function groupKeyNeedsRotation(
  own: OwnSenderKey,
  now: number,
  limits = { messages: GROUP_ROTATE_AFTER_MESSAGES, ageMs: GROUP_ROTATE_AFTER_MS },
): boolean {
  return own.iteration >= limits.messages || now - own.createdAt >= limits.ageMs;
}

/** Chain steps of each own key, one at a time, however many messages are encrypted at once. */
const advancing = new WeakMap<OwnSenderKey, Promise<unknown>>();

/** Takes the next counter and message key of `own`, advancing it. */
function takeMessageKey(
  ctx: ProtocolContext,
  own: OwnSenderKey,
): Promise<{ counter: number; messageKey: Uint8Array }> {
  const step = (advancing.get(own) ?? Promise.resolve()).then(async () => {
    const counter = own.iteration;
    const { messageKey, chainKey } = await chainStep(ctx, own.chainKey);
    own.chainKey = chainKey;
    own.iteration = counter + 1;
    return { counter, messageKey };
  });
  advancing.set(
    own,
    step.catch(() => {}),
  );
  return step;
}

/**
 * Encrypts and signs one conversation message; advances the key (callers store it).
 * Concurrent calls on one key get distinct counters; their encryption and signing overlap.
 */
export async function encryptWithSenderKey(
  ctx: ProtocolContext,
  own: OwnSenderKey,
  clientMessageId: string,
  plaintext: Uint8Array,
): Promise<Uint8Array> {
  const { counter, messageKey } = await takeMessageKey(ctx, own);
  const header: SenderKeyMessageHeader = {
    conversationId: own.conversationId,
    senderUserId: own.senderUserId,
    senderDeviceId: own.senderDeviceId,
    keyVersion: own.keyVersion,
    counter,
    clientMessageId,
    membershipEpoch: own.membershipEpoch,
  };
  const ciphertext = await sealOnce(
    ctx.prims,
    "senderKeyMessage",
    messageKey,
    plaintext,
    encodeSenderKeyHeader(header),
  );
  const unsigned = encodeSenderKeyMessageUnsigned(header, ciphertext);
  const signature = await signBody(ctx, own.signingKeyPair.secretKey, "senderKeyMessage", unsigned);
  return concatBytes(unsigned, signature);
}

/** One received key version of a sender device. */
export interface ReceivedSenderKey {
  keyVersion: number;
  membershipEpoch: number;
  membershipLogHash: Uint8Array;
  deviceListVersion: number;
  signingKey: Uint8Array;
  chainKey: Uint8Array;
  /** The next counter this chain derives. */
  iteration: number;
  skipped: Map<number, Uint8Array>;
  /** When a newer version (or a removal) closed it, by this device's clock. */
  closedAt: number | undefined;
}

/** All a device keeps about one sender device's keys in one conversation. */
export interface SenderKeyRecord {
  /** The highest version ever installed: older ones are never made current again. */
  highestVersion: number;
  /** Newest first, at most SENDER_KEY_VERSIONS_KEPT. */
  versions: ReceivedSenderKey[];
}

export const emptySenderKeyRecord = (): SenderKeyRecord => ({ highestVersion: 0, versions: [] });

/**
 * Installs a received distribution. A newer version becomes current and closes the older
 * ones (they keep decrypting for SENDER_KEY_GRACE_MS); an older version (history, re-share)
 * is added closed; a version already held is kept as is. A different signing key for a
 * version already held is refused (`stale_key`).
 */
export function installDistribution(
  record: SenderKeyRecord,
  d: SenderKeyDistribution,
  now: number,
): SenderKeyRecord {
  const held = record.versions.find((v) => v.keyVersion === d.keyVersion);
  if (held) {
    if (!constantTimeEqual(held.signingKey, d.signingKey)) {
      throw new ParleyError("stale_key", undefined, {
        detail: `version ${d.keyVersion} already held with another signing key`,
      });
    }
    return record;
  }
  const entry: ReceivedSenderKey = {
    keyVersion: d.keyVersion,
    membershipEpoch: d.membershipEpoch,
    membershipLogHash: d.membershipLogHash,
    deviceListVersion: d.deviceListVersion,
    signingKey: d.signingKey,
    chainKey: d.chainKey,
    iteration: d.iteration,
    skipped: new Map(),
    closedAt: d.keyVersion < record.highestVersion ? now : undefined,
  };
  const versions =
    d.keyVersion > record.highestVersion
      ? [entry, ...record.versions.map((v) => ({ ...v, closedAt: v.closedAt ?? now }))]
      : [...record.versions, entry].sort((a, b) => b.keyVersion - a.keyVersion);
  return {
    highestVersion: Math.max(record.highestVersion, d.keyVersion),
    versions: versions.slice(0, SENDER_KEY_VERSIONS_KEPT),
  };
}

/**
 * Closes every version at once (the sender left or lost a device): a message the server
 * received from now on is refused; one it received before still decrypts.
 */
export function closeAllVersions(record: SenderKeyRecord, now: number): SenderKeyRecord {
  const closedAt = now - SENDER_KEY_GRACE_MS - 1;
  return {
    ...record,
    versions: record.versions.map((v) => ({
      ...v,
      closedAt: Math.min(v.closedAt ?? closedAt, closedAt),
    })),
  };
}

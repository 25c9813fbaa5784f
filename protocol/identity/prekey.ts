import type { ProtocolContext } from "../crypto/context.ts";
import {
  ED25519_SIGNATURE_BYTES,
  MLKEM1024_PUBLIC_KEY_BYTES,
  X25519_KEY_BYTES,
} from "../crypto/primitives.ts";
import { checkX25519PublicKey } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { type DeviceId, malformedField, readId, type UserId, writeId } from "./ids.ts";
import { type AccountPublicKey, type AccountSecretKey, checkMlKem1024PublicKey } from "./keys.ts";
import {
  encodeForVerification,
  expectTime,
  signBody,
  validityProblem,
  verifyBody,
} from "./signed.ts";

/**
 * The kinds of prekey a device publishes, with their wire byte. The kind is signed, so a
 * one-time key can never pass for the signed prekey (or a one-time PQ key for the
 * last-resort one) — PQXDH treats them differently.
 */
export const PREKEY_KINDS = {
  /** The device's medium-term X25519 signed prekey. */
  signed: 1,
  /** An X25519 one-time prekey, handed out once. */
  "one-time": 2,
  /** An ML-KEM-1024 one-time prekey, handed out once. */
  "pq-one-time": 3,
  /** The ML-KEM-1024 last-resort prekey, used when no one-time PQ key is left. */
  "pq-last-resort": 4,
} as const;

/** A prekey kind (a key of {@link PREKEY_KINDS}). */
export type PrekeyKind = keyof typeof PREKEY_KINDS;

const KIND_BY_BYTE = new Map<number, PrekeyKind>(
  Object.entries(PREKEY_KINDS).map(([k, v]) => [v, k as PrekeyKind]),
);

/** Public key length per kind: X25519 or ML-KEM-1024. */
export function prekeyPublicKeyLength(kind: PrekeyKind): number {
  return kind === "signed" || kind === "one-time" ? X25519_KEY_BYTES : MLKEM1024_PUBLIC_KEY_BYTES;
}

/** Key ids are unsigned 32-bit, unique per device and kind (the server's table key). */
export const MAX_PREKEY_ID = 0xffff_ffff;
const DAY_MS = 24 * 60 * 60 * 1000;
/** Longest validity a prekey signature may claim (and the default). Renewal is a re-sign. */
export const PREKEY_MAX_LIFETIME_MS = 90 * DAY_MS;

/** The signed fields of a prekey. */
export interface PrekeyFields {
  userId: UserId;
  deviceId: DeviceId;
  kind: PrekeyKind;
  keyId: number;
  /** 32 bytes (X25519) for `signed`/`one-time`, 1568 (ML-KEM-1024) for the PQ kinds. */
  publicKey: Uint8Array;
  createdAt: number;
  expiresAt: number;
}

/** A prekey with the account key's signature. */
export interface SignedPrekey extends PrekeyFields {
  signature: Uint8Array;
}

function encodeBody(p: PrekeyFields): WireWriter {
  const w = new WireWriter(WireType.signedPrekey);
  writeId(w, p.userId, "userId");
  writeId(w, p.deviceId, "deviceId");
  if (!Number.isInteger(p.keyId) || p.keyId < 0 || p.keyId > MAX_PREKEY_ID) {
    throw new RangeError(`'keyId' must be an integer in 0..${MAX_PREKEY_ID}`);
  }
  const kindByte = PREKEY_KINDS[p.kind];
  if (kindByte === undefined) throw new RangeError(`unknown prekey kind ${String(p.kind)}`);
  return w
    .u8(kindByte)
    .varint(p.keyId)
    .fixed(p.publicKey, prekeyPublicKeyLength(p.kind), "publicKey")
    .varint(p.createdAt)
    .varint(p.expiresAt);
}

/** The signed part of a prekey's encoding (everything but the signature). */
export function prekeyBody(p: PrekeyFields): Uint8Array {
  return encodeBody(p).finish();
}

/**
 * Wire layout (WireType.signedPrekey): version u8 ‖ type u8 ‖ userId string ‖ deviceId
 * string ‖ kind u8 ‖ keyId varint ‖ publicKey fixed(32 or 1568, by kind) ‖ createdAt varint ‖
 * expiresAt varint ‖ signature fixed(64).
 */
export function encodeSignedPrekey(p: SignedPrekey): Uint8Array {
  return encodeBody(p).fixed(p.signature, ED25519_SIGNATURE_BYTES, "signature").finish();
}

/** Decodes a signed prekey (sizes, kind and ids only; meaning is checked by verification). */
export function decodeSignedPrekey(bytes: Uint8Array): SignedPrekey {
  return decodeWith("signed prekey", () => {
    const r = new WireReader(bytes, WireType.signedPrekey, "signed prekey");
    const userId = readId<UserId>(r, "userId");
    const deviceId = readId<DeviceId>(r, "deviceId");
    const kind = KIND_BY_BYTE.get(r.u8("kind"));
    if (kind === undefined) throw malformedField("kind", "unknown prekey kind");
    const prekey: SignedPrekey = {
      userId,
      deviceId,
      kind,
      keyId: r.varint("keyId", MAX_PREKEY_ID),
      publicKey: r.fixed(prekeyPublicKeyLength(kind), "publicKey"),
      createdAt: r.varint("createdAt"),
      expiresAt: r.varint("expiresAt"),
      signature: r.fixed(ED25519_SIGNATURE_BYTES, "signature"),
    };
    r.end();
    return prekey;
  });
}

/** Throws `invalid_key` unless the public key suits its kind (point and modulus checks). */
function checkPrekeyPublicKey(kind: PrekeyKind, key: Uint8Array): Uint8Array {
  return kind === "signed" || kind === "one-time"
    ? checkX25519PublicKey(key, "publicKey")
    : checkMlKem1024PublicKey(key, "publicKey");
}

/**
 * Signs one of a device's prekeys with the account key. `createdAt` defaults to now and
 * `expiresAt` to {@link PREKEY_MAX_LIFETIME_MS} later. Throws `invalid_key` for a key that
 * does not suit its kind and RangeError for an impossible id or validity.
 */
export async function signPrekey(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  fields: Omit<PrekeyFields, "createdAt" | "expiresAt"> & {
    createdAt?: number;
    expiresAt?: number;
  },
): Promise<SignedPrekey> {
  const createdAt = expectTime(fields.createdAt ?? ctx.now(), "createdAt");
  const expiresAt = expectTime(fields.expiresAt ?? createdAt + PREKEY_MAX_LIFETIME_MS, "expiresAt");
  const problem = validityProblem(createdAt, expiresAt, createdAt, PREKEY_MAX_LIFETIME_MS);
  if (problem) throw new RangeError(`prekey ${problem}`);
  const unsigned: PrekeyFields = {
    userId: fields.userId,
    deviceId: fields.deviceId,
    kind: fields.kind,
    keyId: fields.keyId,
    publicKey: checkPrekeyPublicKey(fields.kind, fields.publicKey),
    createdAt,
    expiresAt,
  };
  const signature = await signBody(ctx, accountSecretKey, "prekey", prekeyBody(unsigned));
  return { ...unsigned, signature };
}

/** What a prekey must match to be accepted. */
export interface PrekeyExpectation {
  userId: UserId;
  deviceId: DeviceId;
  /** The kind (or kinds) the caller is about to use it as. */
  kind: PrekeyKind | readonly PrekeyKind[];
  /** The key id the caller was told, when it was told one. */
  keyId?: number;
  /** Ms since the epoch; defaults to `ctx.now()`. */
  now?: number;
}

/**
 * Accepts a prekey only if the account key signed it (`invalid_signature` otherwise) and it
 * is for the expected user, device, kind and key id, is currently valid and its public key
 * suits its kind (`invalid_key` otherwise). Returns the prekey.
 */
export async function verifyPrekey(
  ctx: ProtocolContext,
  accountPublicKey: AccountPublicKey,
  prekey: SignedPrekey,
  expected: PrekeyExpectation,
): Promise<SignedPrekey> {
  const body = encodeForVerification("invalid_key", "prekey", () => prekeyBody(prekey));
  await verifyBody(ctx, accountPublicKey, "prekey", body, prekey.signature);
  const fail = (detail: string) =>
    new ParleyError("invalid_key", undefined, { field: "prekey", detail: `prekey: ${detail}` });
  if (prekey.userId !== expected.userId) throw fail("for another user");
  if (prekey.deviceId !== expected.deviceId) throw fail("for another device");
  const kinds: readonly PrekeyKind[] =
    typeof expected.kind === "string" ? [expected.kind] : expected.kind;
  if (!kinds.includes(prekey.kind)) throw fail(`a ${prekey.kind} key used as ${kinds.join("/")}`);
  if (expected.keyId !== undefined && prekey.keyId !== expected.keyId) throw fail("another key id");
  const now = expected.now ?? ctx.now();
  const problem = validityProblem(prekey.createdAt, prekey.expiresAt, now, PREKEY_MAX_LIFETIME_MS);
  if (problem) throw fail(problem);
  try {
    checkPrekeyPublicKey(prekey.kind, prekey.publicKey);
  } catch (err) {
    throw fail((err as ParleyError).message);
  }
  return prekey;
}

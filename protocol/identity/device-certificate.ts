import type { ProtocolContext } from "../crypto/context.ts";
import {
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  X25519_KEY_BYTES,
} from "../crypto/primitives.ts";
import { checkX25519PublicKey } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import { type DeviceId, ID_MAX_BYTES, readId, type UserId, writeId } from "./ids.ts";
import { type AccountPublicKey, type AccountSecretKey, checkEd25519PublicKey } from "./keys.ts";
import {
  encodeForVerification,
  expectTime,
  signBody,
  validityProblem,
  verifyBody,
} from "./signed.ts";

/**
 * What the account key vouches for about one device: that `identityKey` (X25519, used by
 * PQXDH) and `signingKey` (Ed25519) belong to device `deviceId` of user `userId`.
 *
 * Why a device signing key: sender-key messages are signed by the per-chain sender key, not
 * by the device, but DESIGN asks for key-backup entries "signed by the writing device", and
 * the account key cannot say *which* device wrote (every device holds it). A required field
 * (rather than an optional one) keeps one certificate format and no downgrade question.
 */
export interface DeviceCertificateFields {
  userId: UserId;
  deviceId: DeviceId;
  /** The device's X25519 identity public key (32 bytes, canonical, large order). */
  identityKey: Uint8Array;
  /** The device's Ed25519 signing public key (32 bytes, canonical, large order). */
  signingKey: Uint8Array;
  /** Ms since the epoch. */
  createdAt: number;
  /** Ms since the epoch; the certificate is valid strictly before it. */
  expiresAt: number;
}

/** A device certificate with the account key's signature. */
export interface DeviceCertificate extends DeviceCertificateFields {
  signature: Uint8Array;
}

const DAY_MS = 24 * 60 * 60 * 1000;
/** Longest validity a certificate may claim; renewal is cheap (any device holds the key). */
export const DEVICE_CERTIFICATE_MAX_LIFETIME_MS = 400 * DAY_MS;
/** Validity given when the issuer does not choose one. */
export const DEVICE_CERTIFICATE_DEFAULT_LIFETIME_MS = 365 * DAY_MS;
/** Largest possible encoding: header, two ids, two keys, two 8-byte varints, signature. */
export const DEVICE_CERTIFICATE_MAX_BYTES =
  2 + 2 * (1 + ID_MAX_BYTES) + X25519_KEY_BYTES + ED25519_PUBLIC_KEY_BYTES + 2 * 8 + 64;

function encodeBody(c: DeviceCertificateFields): WireWriter {
  const w = new WireWriter(WireType.deviceCertificate);
  writeId(w, c.userId, "userId");
  writeId(w, c.deviceId, "deviceId");
  return w
    .fixed(c.identityKey, X25519_KEY_BYTES, "identityKey")
    .fixed(c.signingKey, ED25519_PUBLIC_KEY_BYTES, "signingKey")
    .varint(c.createdAt)
    .varint(c.expiresAt);
}

/** The signed part of a certificate's encoding (everything but the signature). */
export function deviceCertificateBody(c: DeviceCertificateFields): Uint8Array {
  return encodeBody(c).finish();
}

/**
 * Wire layout (WireType.deviceCertificate): version u8 ‖ type u8 ‖ userId string ‖
 * deviceId string ‖ identityKey fixed(32) ‖ signingKey fixed(32) ‖ createdAt varint ‖
 * expiresAt varint ‖ signature fixed(64).
 */
export function encodeDeviceCertificate(c: DeviceCertificate): Uint8Array {
  return encodeBody(c).fixed(c.signature, ED25519_SIGNATURE_BYTES, "signature").finish();
}

/** Decodes a certificate (sizes and ids only; meaning is checked by verification). */
export function decodeDeviceCertificate(bytes: Uint8Array): DeviceCertificate {
  return decodeWith("device certificate", () => {
    const r = new WireReader(bytes, WireType.deviceCertificate, "device certificate");
    const cert: DeviceCertificate = {
      userId: readId<UserId>(r, "userId"),
      deviceId: readId<DeviceId>(r, "deviceId"),
      identityKey: r.fixed(X25519_KEY_BYTES, "identityKey"),
      signingKey: r.fixed(ED25519_PUBLIC_KEY_BYTES, "signingKey"),
      createdAt: r.varint("createdAt"),
      expiresAt: r.varint("expiresAt"),
      signature: r.fixed(ED25519_SIGNATURE_BYTES, "signature"),
    };
    r.end();
    return cert;
  });
}

/**
 * Signs a certificate for one of the user's devices with the account key. `createdAt`
 * defaults to now and `expiresAt` to {@link DEVICE_CERTIFICATE_DEFAULT_LIFETIME_MS} later.
 * Throws `invalid_key` for an unusable key and RangeError for an impossible validity.
 */
export async function issueDeviceCertificate(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  fields: Omit<DeviceCertificateFields, "createdAt" | "expiresAt"> & {
    createdAt?: number;
    expiresAt?: number;
  },
): Promise<DeviceCertificate> {
  const createdAt = expectTime(fields.createdAt ?? ctx.now(), "createdAt");
  const expiresAt = expectTime(
    fields.expiresAt ?? createdAt + DEVICE_CERTIFICATE_DEFAULT_LIFETIME_MS,
    "expiresAt",
  );
  const unsigned: DeviceCertificateFields = {
    userId: fields.userId,
    deviceId: fields.deviceId,
    identityKey: checkX25519PublicKey(fields.identityKey, "identityKey"),
    signingKey: checkEd25519PublicKey(fields.signingKey, "signingKey"),
    createdAt,
    expiresAt,
  };
  const problem = validityProblem(
    createdAt,
    expiresAt,
    createdAt,
    DEVICE_CERTIFICATE_MAX_LIFETIME_MS,
  );
  if (problem) throw new RangeError(`device certificate ${problem}`);
  const signature = await signBody(
    ctx,
    accountSecretKey,
    "deviceCertificate",
    deviceCertificateBody(unsigned),
  );
  return { ...unsigned, signature };
}

/** What a certificate must match to be accepted. */
export interface DeviceCertificateExpectation {
  /** The user whose account key signed it. */
  userId: UserId;
  /** The device it must be for, when the caller knows which. */
  deviceId?: DeviceId;
  /** Ms since the epoch; defaults to `ctx.now()`. */
  now?: number;
}

/**
 * Accepts a certificate only if the account key signed it (`invalid_signature` otherwise)
 * and it is for the expected user and device, currently valid (not expired, not created
 * more than MAX_CLOCK_SKEW_MS in the future, not longer-lived than allowed) and carries
 * usable keys (`invalid_certificate` otherwise). Returns the certificate.
 */
export async function verifyDeviceCertificate(
  ctx: ProtocolContext,
  accountPublicKey: AccountPublicKey,
  cert: DeviceCertificate,
  expected: DeviceCertificateExpectation,
): Promise<DeviceCertificate> {
  const body = encodeForVerification("invalid_certificate", "device certificate", () =>
    deviceCertificateBody(cert),
  );
  await verifyBody(ctx, accountPublicKey, "deviceCertificate", body, cert.signature);
  const fail = (detail: string) =>
    new ParleyError("invalid_certificate", undefined, { detail: `device certificate: ${detail}` });
  if (cert.userId !== expected.userId) throw fail("for another user");
  if (expected.deviceId !== undefined && cert.deviceId !== expected.deviceId) {
    throw fail("for another device");
  }
  const now = expected.now ?? ctx.now();
  const problem = validityProblem(
    cert.createdAt,
    cert.expiresAt,
    now,
    DEVICE_CERTIFICATE_MAX_LIFETIME_MS,
  );
  if (problem) throw fail(problem);
  try {
    checkX25519PublicKey(cert.identityKey, "identityKey");
    checkEd25519PublicKey(cert.signingKey, "signingKey");
  } catch (err) {
    throw fail((err as ParleyError).message);
  }
  return cert;
}

import { concatBytes, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ED25519_SIGNATURE_BYTES } from "../crypto/primitives.ts";
import { type ErrorCode, ParleyError } from "../errors.ts";
import { checkEd25519PublicKey } from "./keys.ts";

/**
 * Signature contexts: every signed structure is signed over
 * `utf8(context) ‖ 0x00 ‖ body`, where `body` is the structure's wire encoding without its
 * trailing signature (so it starts with the wire version and type bytes). No context
 * contains 0x00, so the inputs of two kinds can never coincide: a signature over one kind is
 * never valid as another. Changing a string breaks every signature: add a new one instead.
 * docs/PROTOCOL.md lists them.
 */
export const SIGNATURE_CONTEXTS = {
  deviceCertificate: "Parley-v1 device certificate",
  prekey: "Parley-v1 prekey",
  deviceList: "Parley-v1 device list",
  membershipEntry: "Parley-v1 membership entry",
  /** Signed by a sender key's own Ed25519 key (protocol/groups), not by an account key. */
  senderKeyMessage: "Parley-v1 sender key message",
} as const;

/** A kind of signed structure (a key of {@link SIGNATURE_CONTEXTS}). */
export type SignedKind = keyof typeof SIGNATURE_CONTEXTS;

/** How far in the future a creation time may lie before it counts as "not yet valid". */
export const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;

/** The exact bytes signed for a structure of `kind` whose unsigned encoding is `body`. */
export function signingInput(kind: SignedKind, body: Uint8Array): Uint8Array {
  return concatBytes(utf8(SIGNATURE_CONTEXTS[kind]), Uint8Array.of(0), body);
}

/** Signs `body` as a structure of `kind` with an Ed25519 secret key. */
export function signBody(
  ctx: ProtocolContext,
  secretKey: Uint8Array,
  kind: SignedKind,
  body: Uint8Array,
): Promise<Uint8Array> {
  return ctx.prims.ed25519.sign(secretKey, signingInput(kind, body));
}

/**
 * Verifies a signature over `body` as a structure of `kind`, throwing ParleyError `code`
 * (usually `invalid_signature`) when it does not verify or the public key is unusable:
 * there is no boolean result for a caller to forget to check.
 */
export async function verifyBody(
  ctx: ProtocolContext,
  publicKey: Uint8Array,
  kind: SignedKind,
  body: Uint8Array,
  signature: Uint8Array,
  code: ErrorCode = "invalid_signature",
): Promise<void> {
  const fail = (detail: string) =>
    new ParleyError(code, undefined, { field: "signature", detail: `${kind}: ${detail}` });
  try {
    checkEd25519PublicKey(publicKey, "signer");
  } catch {
    throw fail("unusable signer key");
  }
  if (!(signature instanceof Uint8Array) || signature.length !== ED25519_SIGNATURE_BYTES) {
    throw fail("signature length");
  }
  if (!(await ctx.prims.ed25519.verify(publicKey, signingInput(kind, body), signature))) {
    throw fail("signature does not verify");
  }
}

/** SHA-256 over a structure's signing input: the hash that chains device lists and logs. */
export function signedHash(
  ctx: ProtocolContext,
  kind: SignedKind,
  body: Uint8Array,
): Promise<Uint8Array> {
  return ctx.prims.sha256(signingInput(kind, body));
}

/**
 * Checks a validity window `[createdAt, expiresAt)` against `now`: not created beyond the
 * allowed clock skew in the future, not expired, not longer than `maxLifetimeMs`. Returns
 * what is wrong (for the error detail), or undefined.
 */
export function validityProblem(
  createdAt: number,
  expiresAt: number,
  now: number,
  maxLifetimeMs: number,
): string | undefined {
  if (expiresAt <= createdAt) return "expires before it is created";
  if (expiresAt - createdAt > maxLifetimeMs) return `valid for more than ${maxLifetimeMs} ms`;
  if (createdAt > now + MAX_CLOCK_SKEW_MS) return "not yet valid (created in the future)";
  if (now >= expiresAt) return "expired";
  return undefined;
}

/**
 * Runs an encoder for verification: an in-memory structure that cannot be encoded (a key of
 * the wrong length, a non-canonical id) is refused with `code` instead of a RangeError.
 */
export function encodeForVerification(
  code: ErrorCode,
  what: string,
  encode: () => Uint8Array,
): Uint8Array {
  try {
    return encode();
  } catch (err) {
    if (err instanceof ParleyError) throw err;
    throw new ParleyError(code, undefined, { detail: `${what}: ${(err as Error).message}` });
  }
}

/** Checks that a time is a non-negative safe integer (ms since the epoch) before signing it. */
export function expectTime(value: unknown, name: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new RangeError(`'${name}' must be a non-negative integer (ms since the epoch)`);
  }
  return value;
}

import { sha512 } from "@noble/hashes/sha2.js";
import { concatBytes, expectBytes, utf8 } from "./crypto/bytes.ts";
import { constantTimeEqual } from "./crypto/constant-time.ts";
import { ED25519_PUBLIC_KEY_BYTES } from "./crypto/primitives.ts";
import { ParleyError } from "./errors.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "./wire/codec.ts";

/**
 * Safety numbers: Signal's NumericFingerprint v1 computed over the two users' account identity
 * keys (Ed25519 public, 32 bytes) and immutable user ids (never usernames, which can change).
 *
 * For one party with user id `id` (UTF-8 bytes) and account key `K` (32 bytes), with
 * `P = 0x05 ‖ K` (33 bytes):
 *
 *   H₀ = SHA-512(0x00 0x00 ‖ P ‖ id ‖ P)
 *   Hᵢ = SHA-512(Hᵢ₋₁ ‖ P)            for i = 1 … 5,199   (5,200 hashes in all)
 *
 * The party's 30 digits are bytes 0–29 of H₅₁₉₉ read as six 40-bit big-endian numbers, each
 * taken mod 100,000 and written as 5 zero-padded digits. The 60-digit safety number is the two
 * parties' 30-digit strings concatenated smaller first, so both sides see the same number.
 *
 * `0x05` is libsignal's serialization prefix for a public key (its "DJB" key type byte).
 * Parley's account keys are Ed25519, not Curve25519, but we keep the prefix so the same
 * 32 bytes and ids give the same 60 digits as libsignal's `Fingerprint` (tested against
 * `@signalapp/libsignal-client`): the algorithm is then Signal's byte for byte, not a look-alike.
 * The prefix is a constant, so it neither adds nor removes anything from the hash input's meaning.
 */
export const SAFETY_NUMBER_ITERATIONS = 5_200;

/** Digits per party and in the whole safety number. */
export const SAFETY_NUMBER_PARTY_DIGITS = 30;
export const SAFETY_NUMBER_DIGITS = 2 * SAFETY_NUMBER_PARTY_DIGITS;

/** Digits per group in the displayed form (12 groups of 5). */
export const SAFETY_NUMBER_GROUP_DIGITS = 5;

/** Longest user id accepted, in UTF-8 bytes (a UUIDv7 string is 36). */
export const SAFETY_NUMBER_MAX_USER_ID_BYTES = 128;

/**
 * Version of the scannable code, bumped if the computation above ever changes so that a code
 * from another scheme is reported as such instead of looking like a changed key.
 */
export const SAFETY_NUMBER_CODE_VERSION = 1;

/** Bytes of each party's fingerprint carried in the scannable code (as libsignal: 32). */
export const SAFETY_NUMBER_CODE_FINGERPRINT_BYTES = 32;

/** libsignal's serialized-public-key prefix, hashed in front of the key (see above). */
const SIGNAL_KEY_TYPE_PREFIX = 0x05;
/** NumericFingerprint's own format version, hashed first: two zero bytes. */
const FINGERPRINT_FORMAT_VERSION = new Uint8Array(2);
/** Each group of 5 digits comes from 5 hash bytes (40 bits); 6 groups per party. */
const BYTES_PER_GROUP = 5;
const PARTY_GROUPS = SAFETY_NUMBER_PARTY_DIGITS / SAFETY_NUMBER_GROUP_DIGITS;

/** One side of a conversation, as its safety number sees it. */
export interface SafetyNumberParty {
  /** The immutable user id (canonical lowercase UUIDv7 string), hashed as its UTF-8 bytes. */
  userId: string;
  /** The account identity key: Ed25519 public key, 32 bytes. */
  accountKey: Uint8Array;
}

/** What a user compares: digits to read out, and a code to scan. */
export interface SafetyNumber {
  /** The 60 digits, the same on both sides. */
  digits: string;
  /** The same digits in 12 space-separated groups of 5, for display. */
  display: string;
  /** This side's scannable code (`encodeSafetyNumberCode`), to show as a QR code. */
  scannable: Uint8Array;
}

/** The decoded scannable code: each party's fingerprint from the code owner's point of view. */
export interface SafetyNumberCode {
  version: number;
  /** First 32 bytes of the code owner's fingerprint hash. */
  local: Uint8Array;
  /** First 32 bytes of the other party's fingerprint hash. */
  remote: Uint8Array;
}

/**
 * Computes the safety number of a conversation between `local` and `remote`.
 *
 * Synchronous and independent of `Primitives` on purpose: 10,400 SHA-512 calls through the
 * async WebCrypto path take ~300 ms in Bun (one await per hash), @noble/hashes does them in
 * ~30 ms. SHA-512 has one correct answer, so nothing is lost by not offering both paths.
 */
export function computeSafetyNumber(parties: {
  local: SafetyNumberParty;
  remote: SafetyNumberParty;
}): SafetyNumber {
  // Check both sides before spending ~15 ms hashing either.
  const localInput = hashInput(parties.local, "local");
  const remoteInput = hashInput(parties.remote, "remote");
  const local = fingerprint(localInput);
  const remote = fingerprint(remoteInput);
  const localDigits = partyDigits(local);
  const remoteDigits = partyDigits(remote);
  const digits =
    localDigits < remoteDigits ? localDigits + remoteDigits : remoteDigits + localDigits;
  return {
    digits,
    display: groupDigits(digits),
    scannable: encodeSafetyNumberCode({
      version: SAFETY_NUMBER_CODE_VERSION,
      local: local.slice(0, SAFETY_NUMBER_CODE_FINGERPRINT_BYTES),
      remote: remote.slice(0, SAFETY_NUMBER_CODE_FINGERPRINT_BYTES),
    }),
  };
}

/**
 * Encodes a scannable code (the QR payload), 67 bytes:
 * `0x01 (wire version) ‖ 0x0f (WireType.safetyNumberCode) ‖ u8 code version (1) ‖
 * local fingerprint (32) ‖ remote fingerprint (32)`.
 */
export function encodeSafetyNumberCode(code: SafetyNumberCode): Uint8Array {
  return new WireWriter(WireType.safetyNumberCode)
    .u8(code.version)
    .fixed(code.local, SAFETY_NUMBER_CODE_FINGERPRINT_BYTES, "local")
    .fixed(code.remote, SAFETY_NUMBER_CODE_FINGERPRINT_BYTES, "remote")
    .finish();
}

/**
 * Decodes a scannable code; anything that is not a current-version Parley code is
 * `malformed_message` (an unknown code version says so in the error detail).
 */
export function decodeSafetyNumberCode(input: Uint8Array): SafetyNumberCode {
  return decodeWith("safety number code", () => {
    const r = new WireReader(input, WireType.safetyNumberCode, "safety number code");
    const version = r.u8("version");
    if (version !== SAFETY_NUMBER_CODE_VERSION) {
      throw new ParleyError("malformed_message", undefined, {
        detail: `safety number code: unknown version ${version}`,
      });
    }
    const local = r.fixed(SAFETY_NUMBER_CODE_FINGERPRINT_BYTES, "local");
    const remote = r.fixed(SAFETY_NUMBER_CODE_FINGERPRINT_BYTES, "remote");
    r.end();
    return { version, local, remote };
  });
}

/**
 * True when `scanned` (the code on the other person's screen) is the mirror of `ours`
 * (`SafetyNumber.scannable`): their local fingerprint is our remote one and vice versa.
 * Both halves are compared in constant time, and both are always compared.
 *
 * A scan that is not a Parley safety number code at all throws `malformed_message` rather
 * than returning false, so the app can say "this is not a safety number" instead of raising
 * a false alarm about a changed key. False means the keys or ids differ: not verified.
 */
export function compareScannedCode(ours: Uint8Array, scanned: Uint8Array): boolean {
  const mine = decodeSafetyNumberCode(ours);
  const theirs = decodeSafetyNumberCode(scanned);
  const sameRemote = constantTimeEqual(theirs.local, mine.remote);
  const sameLocal = constantTimeEqual(theirs.remote, mine.local);
  return sameRemote && sameLocal;
}

/** One party's checked inputs: `P = 0x05 ‖ K` and the id bytes. */
function hashInput(party: SafetyNumberParty | undefined, side: "local" | "remote") {
  const key = expectBytes(party?.accountKey, ED25519_PUBLIC_KEY_BYTES, `${side}.accountKey`);
  return {
    prefixedKey: concatBytes(Uint8Array.of(SIGNAL_KEY_TYPE_PREFIX), key),
    id: userIdBytes(party?.userId, `${side}.userId`),
  };
}

/** H₅₁₉₉ for one party (64 bytes); see the module comment. */
function fingerprint({ prefixedKey, id }: { prefixedKey: Uint8Array; id: Uint8Array }) {
  let hash = sha512(concatBytes(FINGERPRINT_FORMAT_VERSION, prefixedKey, id, prefixedKey));
  // One buffer for every round: `hash ‖ P`, with the hash part overwritten each time.
  const round = new Uint8Array(hash.length + prefixedKey.length);
  round.set(prefixedKey, hash.length);
  for (let i = 1; i < SAFETY_NUMBER_ITERATIONS; i++) {
    round.set(hash, 0);
    hash = sha512(round);
  }
  return hash;
}

function userIdBytes(userId: unknown, field: string): Uint8Array {
  const bytes = typeof userId === "string" ? utf8(userId) : undefined;
  if (!bytes || bytes.length === 0 || bytes.length > SAFETY_NUMBER_MAX_USER_ID_BYTES) {
    throw new ParleyError(
      "invalid_request",
      `'${field}' must be a user id of 1 to ${SAFETY_NUMBER_MAX_USER_ID_BYTES} bytes`,
      { field },
    );
  }
  return bytes;
}

/** Six 5-digit groups from bytes 0–29: each 40-bit big-endian value mod 100,000. */
function partyDigits(hash: Uint8Array): string {
  let out = "";
  for (let group = 0; group < PARTY_GROUPS; group++) {
    // 40 bits exceed 32-bit bitwise operators, so accumulate by multiplication (exact below 2^53).
    let value = 0;
    for (let i = 0; i < BYTES_PER_GROUP; i++)
      value = value * 256 + hash[group * BYTES_PER_GROUP + i]!;
    out += String(value % 100_000).padStart(SAFETY_NUMBER_GROUP_DIGITS, "0");
  }
  return out;
}

function groupDigits(digits: string): string {
  const groups: string[] = [];
  for (let at = 0; at < digits.length; at += SAFETY_NUMBER_GROUP_DIGITS) {
    groups.push(digits.slice(at, at + SAFETY_NUMBER_GROUP_DIGITS));
  }
  return groups.join(" ");
}

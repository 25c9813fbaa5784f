import { attachmentPaddedSize } from "../attachments/padding.ts";
import { expectBytes, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { ParleyError } from "../errors.ts";
import { parseUserId, type UserId } from "../identity/ids.ts";
import { decodeWith, WireReader, WireType, WireWriter } from "../wire/codec.ts";
import {
  checkText,
  maxTextBytes,
  padWithZeros,
  readText,
  readZeroPadding,
  type TextRule,
} from "./fields.ts";
import { openWithRandomNonce, sealWithRandomNonce } from "./sealed.ts";

/**
 * A person's profile — display name, status, avatar — which the server stores only as
 * ciphertext under the owner's profile key (contacts receive the key inside messages):
 *   content  01 12 ‖ displayName str ‖ status str ‖ updatedAt varint ‖ hasAvatar bool ‖
 *            [avatar bytes] ‖ zero padding
 *   sealed   01 ‖ nonce fixed(12) ‖ AES-256-GCM(HKDF(profileKey, "Parley-v1 profile", 32),
 *            nonce, content, AAD = 01 ‖ utf8(userId)) — see sealed.ts
 * The content is padded to the attachment buckets (at least 541 bytes, then steps of 5 %),
 * so a name's or status's length does not show in the ciphertext's. The owner's user id in
 * the AAD stops a server from serving one person's profile as another's.
 */

/** The profile key: 32 random bytes made on the first device, shared with contacts. */
export const PROFILE_KEY_BYTES = 32;
/** A display name: 1–64 characters, not only white space, no control characters. */
export const PROFILE_DISPLAY_NAME: TextRule = { minChars: 1, maxChars: 64 };
/** A status line: up to 140 characters (may be empty), no control characters. */
export const PROFILE_STATUS: TextRule = { minChars: 0, maxChars: 140 };
/**
 * Largest avatar field: an encoded attachment pointer (protocol/attachments/pointer.ts),
 * which is at most about 1.2 KB even with a thumbnail and the longest names.
 */
export const PROFILE_AVATAR_MAX_BYTES = 2048;

/** What a profile holds; `avatar` is opaque here, an encoded attachment pointer. */
export interface ProfileContent {
  displayName: string;
  status: string;
  /** An encoded attachment pointer (1 to 2,048 bytes); decode it with the pointer module. */
  avatar?: Uint8Array;
  /** When the owner last changed it (ms since the epoch): the newest copy wins. */
  updatedAt: number;
}

const WHAT = "profile";

/**
 * Encodes and pads a profile. Bad input throws, naming the field: `limit_exceeded` for a
 * text or avatar over its limit, `invalid_request` for an empty name, a control character,
 * or an avatar that is not bytes or is empty; an `updatedAt` that is not a non-negative
 * integer is a `RangeError` (a programming error).
 */
export function encodeProfileContent(content: ProfileContent): Uint8Array {
  const displayName = checkText(content.displayName, PROFILE_DISPLAY_NAME, "displayName");
  const status = checkText(content.status, PROFILE_STATUS, "status");
  if (!Number.isSafeInteger(content.updatedAt) || content.updatedAt < 0) {
    throw new RangeError("'updatedAt' must be a non-negative integer");
  }
  const w = new WireWriter(WireType.profileContent)
    .string(displayName, maxTextBytes(PROFILE_DISPLAY_NAME), "displayName")
    .string(status, maxTextBytes(PROFILE_STATUS), "status")
    .varint(content.updatedAt)
    .bool(content.avatar !== undefined);
  if (content.avatar !== undefined) {
    w.bytes(checkAvatar(content.avatar), PROFILE_AVATAR_MAX_BYTES, "avatar");
  }
  const encoded = w.finish();
  // The attachment buckets: far above the largest profile, and already exact in integers.
  return padWithZeros(encoded, attachmentPaddedSize(encoded.length));
}

/**
 * Decodes a padded profile; any failure — padding to another size than the encoder's
 * included, so each profile has one encoding — is `malformed_message`.
 */
export function decodeProfileContent(input: Uint8Array): ProfileContent {
  return decodeWith(WHAT, () => {
    const r = new WireReader(input, WireType.profileContent, WHAT);
    const content: ProfileContent = {
      displayName: readText(r, PROFILE_DISPLAY_NAME, "displayName", WHAT),
      status: readText(r, PROFILE_STATUS, "status", WHAT),
      updatedAt: r.varint("updatedAt"),
    };
    if (r.bool("hasAvatar")) {
      content.avatar = r.bytes(PROFILE_AVATAR_MAX_BYTES, "avatar");
      if (content.avatar.length === 0) {
        throw new ParleyError("malformed_message", undefined, { detail: `${WHAT}: empty avatar` });
      }
    }
    const contentBytes = input.length - r.remaining();
    if (input.length !== attachmentPaddedSize(contentBytes)) {
      throw new ParleyError("malformed_message", undefined, {
        detail: `${WHAT}: ${contentBytes} bytes padded to ${input.length}`,
      });
    }
    readZeroPadding(r, WHAT);
    return content;
  });
}

/**
 * Encrypts `content` for the server to store, bound to its owner `userId`. Throws what
 * `encodeProfileContent` throws, `invalid_key` for a profile key that is not 32 bytes and
 * `invalid_request` for a user id that is not canonical.
 */
export async function encryptProfile(
  ctx: ProtocolContext,
  profileKey: Uint8Array,
  userId: UserId,
  content: ProfileContent,
): Promise<Uint8Array> {
  const key = expectBytes(profileKey, PROFILE_KEY_BYTES, "profileKey");
  const binding = utf8(parseUserId(userId));
  return sealWithRandomNonce(ctx, "profile", key, encodeProfileContent(content), binding);
}

/**
 * Decrypts the profile `userId` stored. A wrong key, another user's ciphertext or any
 * changed byte is `decrypt_failed`; an authentic plaintext this version cannot read (a
 * newer or broken client wrote it) is `malformed_message`.
 */
export async function decryptProfile(
  ctx: ProtocolContext,
  profileKey: Uint8Array,
  userId: UserId,
  sealed: Uint8Array,
): Promise<ProfileContent> {
  const key = expectBytes(profileKey, PROFILE_KEY_BYTES, "profileKey");
  const binding = utf8(parseUserId(userId));
  return decodeProfileContent(await openWithRandomNonce(ctx, "profile", key, sealed, binding));
}

function checkAvatar(avatar: unknown): Uint8Array {
  if (!(avatar instanceof Uint8Array) || avatar.length === 0) {
    throw new ParleyError("invalid_request", "'avatar' must be a non-empty attachment pointer", {
      field: "avatar",
    });
  }
  if (avatar.length > PROFILE_AVATAR_MAX_BYTES) {
    throw new ParleyError(
      "limit_exceeded",
      `'avatar' must be at most ${PROFILE_AVATAR_MAX_BYTES} bytes`,
      { field: "avatar" },
    );
  }
  return avatar;
}

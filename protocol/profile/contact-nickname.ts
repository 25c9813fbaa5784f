import { concatBytes, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { parseUserId, type UserId } from "../identity/ids.ts";
import { type AccountSecretKey, asAccountSecretKey } from "../identity/keys.ts";
import { WireType } from "../wire/codec.ts";
import { openWithRandomNonce, sealWithRandomNonce } from "./sealed.ts";
import {
  decodeShortName,
  encodeShortName,
  SHORT_NAME,
  SHORT_NAME_PADDED_BYTES,
  SHORT_NAME_SEALED_BYTES,
} from "./short-name.ts";

/**
 * The nickname a person gives one of their contacts ("Mum"), readable only by that person's
 * own devices — they hold the account secret key; the contact and the server do not:
 *   content  01 14 ‖ nickname str ‖ zero padding, to exactly 260 bytes
 *   sealed   01 ‖ nonce fixed(12) ‖ AES-256-GCM(HKDF(accountSecretKey, "Parley-v1 contact
 *            nickname", 32), nonce, content, AAD = 01 ‖ utf8(ownerId) ‖ utf8(contactId))
 * Every nickname pads to the longest one's size, so each sealed nickname is 289 bytes
 * whatever it says (the server accepts up to 1,024). The ids are canonical UUIDs of 36
 * bytes each, so their concatenation is unambiguous; binding them stops a server from
 * moving a nickname onto another contact, or onto another account. After an identity reset
 * (a new account key) the old nicknames no longer open.
 */

export const CONTACT_NICKNAME = SHORT_NAME;
export const CONTACT_NICKNAME_PADDED_BYTES = SHORT_NAME_PADDED_BYTES;
export const CONTACT_NICKNAME_SEALED_BYTES = SHORT_NAME_SEALED_BYTES;

/** Encodes and pads a contact nickname; `limit_exceeded` or `invalid_request` naming `nickname` if bad. */
export const encodeContactNickname = (nickname: string): Uint8Array =>
  encodeShortName(WireType.contactNickname, nickname, "nickname");

/** Decodes a padded contact nickname; any failure is `malformed_message`. */
export const decodeContactNickname = (input: Uint8Array): string =>
  decodeShortName(WireType.contactNickname, input, "contact nickname", "nickname");

function binding(ownerId: UserId, contactId: UserId): Uint8Array {
  return concatBytes(
    utf8(parseUserId(ownerId, "ownerId")),
    utf8(parseUserId(contactId, "contactId")),
  );
}

/**
 * Encrypts the nickname `ownerId` gives `contactId`, for the server to store. Throws what
 * `encodeContactNickname` throws, `invalid_key` for an account secret key that is not 32
 * bytes and `invalid_request` for an id that is not canonical.
 */
export async function encryptContactNickname(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  ownerId: UserId,
  contactId: UserId,
  nickname: string,
): Promise<Uint8Array> {
  const key = asAccountSecretKey(accountSecretKey);
  const content = encodeContactNickname(nickname);
  return sealWithRandomNonce(ctx, "contactNickname", key, content, binding(ownerId, contactId));
}

/**
 * Decrypts the nickname stored for `contactId`. A wrong account key, another contact's or
 * another account's nickname, or a changed byte is `decrypt_failed`; an authentic plaintext
 * this version cannot read is `malformed_message`.
 */
export async function decryptContactNickname(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  ownerId: UserId,
  contactId: UserId,
  sealed: Uint8Array,
): Promise<string> {
  const key = asAccountSecretKey(accountSecretKey);
  const ids = binding(ownerId, contactId);
  return decodeContactNickname(await openWithRandomNonce(ctx, "contactNickname", key, sealed, ids));
}

import { concatBytes, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { type DeviceId, parseDeviceId, parseUserId, type UserId } from "../identity/ids.ts";
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
 * Device names ("Alice's laptop"), readable only by the account's own devices — they hold
 * the account secret key; contacts and the server do not:
 *   content  01 13 ‖ name str ‖ zero padding, to exactly 260 bytes
 *   sealed   01 ‖ nonce fixed(12) ‖ AES-256-GCM(HKDF(accountSecretKey, "Parley-v1 device
 *            name", 32), nonce, content, AAD = 01 ‖ utf8(userId) ‖ utf8(deviceId))
 * Every name pads to the longest one's size, so each sealed name is 289 bytes whatever it
 * says (the attachment buckets start at 541 bytes, beyond the server's 512-byte bound on a
 * device name). The ids are canonical UUIDs of 36 bytes each, so their concatenation is
 * unambiguous; binding them stops a server from swapping two devices' names. After an
 * identity reset (a new account key) the old names no longer open.
 */

export const DEVICE_NAME = SHORT_NAME;
export const DEVICE_NAME_PADDED_BYTES = SHORT_NAME_PADDED_BYTES;
export const DEVICE_NAME_SEALED_BYTES = SHORT_NAME_SEALED_BYTES;

/** Encodes and pads a device name; `limit_exceeded` or `invalid_request` naming `name` if bad. */
export const encodeDeviceName = (name: string): Uint8Array =>
  encodeShortName(WireType.deviceName, name, "name");

/** Decodes a padded device name; any failure is `malformed_message`. */
export const decodeDeviceName = (input: Uint8Array): string =>
  decodeShortName(WireType.deviceName, input, "device name", "name");

function binding(userId: UserId, deviceId: DeviceId): Uint8Array {
  return concatBytes(utf8(parseUserId(userId)), utf8(parseDeviceId(deviceId)));
}

/**
 * Encrypts a device's name for the server to store. Throws what `encodeDeviceName` throws,
 * `invalid_key` for an account secret key that is not 32 bytes and `invalid_request` for an
 * id that is not canonical.
 */
export async function encryptDeviceName(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  userId: UserId,
  deviceId: DeviceId,
  name: string,
): Promise<Uint8Array> {
  const key = asAccountSecretKey(accountSecretKey);
  const content = encodeDeviceName(name);
  return sealWithRandomNonce(ctx, "deviceName", key, content, binding(userId, deviceId));
}

/**
 * Decrypts the name stored for `deviceId`. A wrong account key, another device's name or a
 * changed byte is `decrypt_failed`; an authentic plaintext this version cannot read is
 * `malformed_message`.
 */
export async function decryptDeviceName(
  ctx: ProtocolContext,
  accountSecretKey: AccountSecretKey,
  userId: UserId,
  deviceId: DeviceId,
  sealed: Uint8Array,
): Promise<string> {
  const key = asAccountSecretKey(accountSecretKey);
  const ids = binding(userId, deviceId);
  return decodeDeviceName(await openWithRandomNonce(ctx, "deviceName", key, sealed, ids));
}

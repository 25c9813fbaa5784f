import { concatBytes, utf8 } from "./bytes.ts";
import type { Primitives } from "./primitives.ts";

/**
 * HKDF info strings: one per purpose, versioned, so no key derived for one purpose can be
 * mistaken for another (domain separation). Changing one breaks compatibility: add a new
 * version instead. docs/PROTOCOL.md lists them.
 */
export const KDF_INFO = {
  pqxdh: "Parley-v1 PQXDH X25519 ML-KEM-1024 SHA-256",
  ratchetRoot: "Parley-v1 ratchet root",
  ratchetMessage: "Parley-v1 ratchet message key",
  senderKeyMessage: "Parley-v1 sender key message key",
  keyHeader: "Parley-v1 key header",
  provisioning: "Parley-v1 provisioning",
  attachment: "Parley-v1 attachment",
  keyBackup: "Parley-v1 key backup",
  profile: "Parley-v1 profile",
  deviceName: "Parley-v1 device name",
  contactNickname: "Parley-v1 contact nickname",
} as const;

export type KdfPurpose = keyof typeof KDF_INFO;

/** Zero salt of hash length, as RFC 5869 uses when none is given. */
export const ZERO_SALT = new Uint8Array(32);

/** HKDF-SHA256 for a named purpose; `context` is appended to the purpose's info string. */
export function deriveKey(
  prims: Primitives,
  purpose: KdfPurpose,
  ikm: Uint8Array,
  length: number,
  options: { salt?: Uint8Array; context?: Uint8Array } = {},
): Promise<Uint8Array> {
  const info = options.context
    ? concatBytes(utf8(KDF_INFO[purpose]), options.context)
    : utf8(KDF_INFO[purpose]);
  return prims.hkdfSha256(ikm, options.salt ?? ZERO_SALT, info, length);
}

import type { Clock, Rng } from "../protocol/crypto/bytes.ts";
import { toHex } from "../protocol/crypto/bytes.ts";

/**
 * A UUIDv7 (RFC 9562): 48-bit Unix time in ms, version 7, 74 random bits. Clients choose
 * their device ids, new user ids and message ids with it; time order helps the server's
 * indexes and the random part makes collisions negligible.
 */
export function uuidV7(rng: Rng, now: Clock): string {
  const bytes = rng(16);
  const time = now();
  for (let i = 0; i < 6; i++) bytes[i] = Math.floor(time / 2 ** (8 * (5 - i))) & 0xff;
  bytes[6] = 0x70 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

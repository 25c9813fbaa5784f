import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, toHex, utf8 } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import { type ConversationId, isCanonicalId, parseUserId, type UserId } from "../identity/ids.ts";

/**
 * Conversation ids. A direct (1:1) conversation's id is derived from its two users, so both
 * compute it without asking the server — it is signed into every sender-key message, and a
 * server cannot hand two people different "direct" conversations:
 *   h  = SHA-256("Parley-v1 direct conversation" ‖ 0x00 ‖ smaller id ‖ 0x00 ‖ larger id)
 *   id = h[0..16] with the version nibble set to 8 and the variant bits to 10 (RFC 9562
 *        §5.8, UUIDv8 "custom", as its name-based SHA-256 example), as a canonical UUID
 * The user ids are canonical lowercase UUIDs (36 ASCII bytes), ordered as strings. A group's
 * id is a client-chosen UUIDv7: the version nibble keeps the two kinds apart, so a group can
 * never take the id of a direct conversation (a squatter would block that pair otherwise).
 */

/** Domain-separation label of the direct conversation id hash. */
export const DIRECT_CONVERSATION_LABEL = "Parley-v1 direct conversation";

const SEPARATOR = Uint8Array.of(0x00);
const UUID_BYTES = 16;

/**
 * The id of the direct conversation between `userA` and `userB`, the same for either order.
 * ParleyError `invalid_request` for an id that is not canonical or a user paired with
 * themself (there is no direct conversation with oneself).
 */
export function directConversationId(userA: UserId, userB: UserId): ConversationId {
  const a = parseUserId(userA, "userA");
  const b = parseUserId(userB, "userB");
  if (a === b) {
    throw new ParleyError("invalid_request", "A direct conversation needs two different users.", {
      field: "userB",
    });
  }
  const [smaller, larger] = a < b ? [a, b] : [b, a];
  const hash = sha256(
    concatBytes(utf8(DIRECT_CONVERSATION_LABEL), SEPARATOR, utf8(smaller), SEPARATOR, utf8(larger)),
  );
  const bytes = hash.slice(0, UUID_BYTES);
  bytes[6] = 0x80 | (bytes[6]! & 0x0f);
  bytes[8] = 0x80 | (bytes[8]! & 0x3f);
  const hex = toHex(bytes);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}` as ConversationId;
}

/**
 * True when `id` is the direct conversation of `userA` and `userB` (either order). False for
 * anything else, invalid input included: no id is the direct conversation of a user with
 * themself or of a non-canonical id.
 */
export function isDirectConversationId(id: unknown, userA: unknown, userB: unknown): boolean {
  if (!isCanonicalId(id) || !isCanonicalId(userA) || !isCanonicalId(userB)) return false;
  if (userA === userB) return false;
  return id === directConversationId(userA as UserId, userB as UserId);
}

/**
 * True when `id` has the form of a group conversation id: a canonical UUIDv7 (version
 * nibble 7, RFC 9562 variant). A server refuses to create a group under any other id, so no
 * group can occupy a direct conversation's (version 8) id.
 */
export function isGroupConversationId(id: unknown): boolean {
  return isCanonicalId(id) && id[14] === "7" && "89ab".includes(id[19]!);
}

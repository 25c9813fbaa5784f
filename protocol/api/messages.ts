import { type Static, Type } from "@sinclair/typebox";
import { Bytes, Id } from "./accounts.ts";

/**
 * Request bodies of the messaging API (docs/PROTOCOL.md §14). Binary values are base64url
 * without padding; the server enforces its configured sizes (messages.*) on top of these.
 */

/** The schema's outer bound on one message's ciphertext (the server's limit is lower). */
const MAX_CIPHERTEXT = 1024 * 1024;
/** One key header: a sealed pairwise message carrying one sender key. */
const MAX_KEY_HEADER = 8 * 1024;
/** Key headers per message: one per recipient device (1,000 members × 6 devices at most). */
export const MAX_KEY_HEADERS = 6000;

export const SendMessage = Type.Object({
  id: Id("The client's UUIDv7 for this message: a retry with the same id is stored once"),
  conversationId: Id("The conversation (direct: derived from both user ids)"),
  ciphertext: Bytes(MAX_CIPHERTEXT, "The sender-key message"),
  keyHeaders: Type.Optional(
    Type.Array(
      Type.Object({
        deviceId: Id("The recipient device"),
        header: Bytes(MAX_KEY_HEADER, "Its key header"),
      }),
      { maxItems: MAX_KEY_HEADERS },
    ),
  ),
  expiresAt: Type.Optional(
    Type.Integer({ minimum: 0, description: "Disappearing: erased from the server at this time" }),
  ),
  peerUserId: Type.Optional(
    Id("Direct conversations: the other user (the conversation starts with this message)"),
  ),
});
export type SendMessage = Static<typeof SendMessage>;

export const Position = Type.Object({
  seq: Type.Integer({ minimum: 0, description: "A message sequence in this conversation" }),
});

export const MembershipRequest = Type.Object({
  entry: Bytes(4096, "A signed membership log entry"),
  infoCiphertext: Type.Optional(Bytes(64 * 1024, "set-info: the group info ciphertext")),
});

export const CreateGroup = Type.Object({
  id: Id("The new group's UUIDv7"),
  entry: Bytes(4096, "Its signed `create` entry (epoch 0)"),
});

/** Most to-device envelopes in one request. */
export const MAX_ENVELOPES_PER_REQUEST = 1000;

export const SendToDevice = Type.Object({
  envelopes: Type.Array(
    Type.Object({
      deviceId: Id("The recipient device"),
      envelope: Bytes(64 * 1024, "A pairwise message"),
    }),
    { minItems: 1, maxItems: MAX_ENVELOPES_PER_REQUEST },
  ),
});

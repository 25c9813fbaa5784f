import {
  type AttachmentPointer,
  decodeAttachmentPointer,
  encodeAttachmentPointer,
} from "../attachments/pointer.ts";
import { expectBytes } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import {
  type MessageId,
  malformedField,
  parseMessageId,
  parseUserId,
  readId,
  type UserId,
  writeId,
} from "../identity/ids.ts";
import { PROFILE_KEY_BYTES } from "../profile/profile.ts";
import type { WireReader, WireWriter } from "../wire/codec.ts";
import { checkMessageText, MESSAGE_BODY, REACTION_EMOJI, readMessageText } from "./message-text.ts";

/**
 * The kinds of message content and the fields each carries after the common ones (see
 * content.ts for the frame around them). A kind's fields never change: a new field or a new
 * meaning is a new kind, which older clients decode as `unknown` rather than misread (an
 * ignored flag could, say, show a "view once" photo forever).
 */

/** Most users one text mentions: a group's member limit. */
export const MESSAGE_MAX_MENTIONS = 1_000;
/** Largest encoded attachment pointer (§7); the largest possible one is about 1.2 KB. */
export const MESSAGE_POINTER_MAX_BYTES = 2_048;
/** Longest disappearing-message timer, and longest `expiresInSeconds`: a year. */
export const MESSAGE_MAX_TIMER_SECONDS = 365 * 24 * 60 * 60;

/** Fields every content carries, whatever its kind. */
export interface ContentCommon {
  /** The sender's clock when it sent the message, ms since the epoch (display only). */
  sentAt: number;
  /**
   * Seconds after which recipients delete the message (the conversation's timer when it was
   * sent), 1 to a year; absent when the message does not disappear.
   */
  expiresInSeconds?: number;
}

/** A text message, possibly a reply, possibly mentioning members. */
export interface TextContent extends ContentCommon {
  type: "text";
  body: string;
  /** The message this one answers. */
  replyTo?: MessageId;
  /** Distinct users mentioned, in the sender's order; absent rather than empty. */
  mentions?: UserId[];
}

/** A new body for one of the sender's own earlier texts. */
export interface EditContent extends ContentCommon {
  type: "edit";
  target: MessageId;
  body: string;
}

/** Deletes one of the sender's own earlier messages for everyone. */
export interface DeleteContent extends ContentCommon {
  type: "delete";
  target: MessageId;
}

/** Adds (or with `remove`, takes back) the sender's reaction to a message. */
export interface ReactionContent extends ContentCommon {
  type: "reaction";
  target: MessageId;
  emoji: string;
  /** Present (true) when the reaction is taken back; false and absent are the same. */
  remove?: boolean;
}

/** One attachment (an encrypted blob, §7), with an optional caption. */
export interface AttachmentContent extends ContentCommon {
  type: "attachment";
  pointer: AttachmentPointer;
  caption?: string;
}

/** The sender's profile key, shared with the conversation's members (§12). */
export interface ProfileKeyContent extends ContentCommon {
  type: "profile-key";
  profileKey: Uint8Array;
}

/** Sets the conversation's disappearing-message timer; 0 turns it off. */
export interface DisappearingTimerContent extends ContentCommon {
  type: "disappearing-timer";
  seconds: number;
}

/** The contents this version reads. */
export type KnownContent =
  | TextContent
  | EditContent
  | DeleteContent
  | ReactionContent
  | AttachmentContent
  | ProfileKeyContent
  | DisappearingTimerContent;
export type KnownContentType = KnownContent["type"];

type ContentOf<T extends KnownContentType> = Extract<KnownContent, { type: T }>;
type FieldsOf<T extends KnownContentType> = Omit<ContentOf<T>, keyof ContentCommon | "type">;

interface KindCodec<T extends KnownContentType> {
  /** The kind byte on the wire. */
  kind: number;
  /** Checks the content's own fields (typed errors naming the field) and writes them. */
  write(w: WireWriter, content: ContentOf<T>): void;
  /** Reads the fields back; any breach of the limits is `malformed_message`. */
  read(r: WireReader, what: string): FieldsOf<T>;
}

/** Every known kind: its byte and its fields. Kind bytes are never reused. */
export const CONTENT_KINDS: { readonly [T in KnownContentType]: KindCodec<T> } = {
  text: {
    kind: 1,
    write(w, c) {
      const body = checkMessageText(c.body, MESSAGE_BODY, "body");
      const replyTo = c.replyTo === undefined ? undefined : parseMessageId(c.replyTo, "replyTo");
      const mentions = checkMentions(c.mentions ?? []);
      w.string(body, MESSAGE_BODY.maxBytes, "body").bool(replyTo !== undefined);
      if (replyTo !== undefined) writeId(w, replyTo, "replyTo");
      w.list(mentions, MESSAGE_MAX_MENTIONS, "mentions", (w, id) => writeId(w, id, "mention"));
    },
    read(r, what) {
      const fields: FieldsOf<"text"> = { body: readMessageText(r, MESSAGE_BODY, "body", what) };
      if (r.bool("hasReplyTo")) fields.replyTo = readId<MessageId>(r, "replyTo");
      const mentions = r.list(MESSAGE_MAX_MENTIONS, "mentions", (r) =>
        readId<UserId>(r, "mention"),
      );
      if (new Set(mentions).size !== mentions.length) {
        throw malformedField("mentions", "a user is mentioned twice");
      }
      if (mentions.length > 0) fields.mentions = mentions;
      return fields;
    },
  },
  edit: {
    kind: 2,
    write(w, c) {
      const target = parseMessageId(c.target, "target");
      const body = checkMessageText(c.body, MESSAGE_BODY, "body");
      writeId(w, target, "target");
      w.string(body, MESSAGE_BODY.maxBytes, "body");
    },
    read: (r, what) => ({
      target: readId<MessageId>(r, "target"),
      body: readMessageText(r, MESSAGE_BODY, "body", what),
    }),
  },
  delete: {
    kind: 3,
    write: (w, c) => writeId(w, parseMessageId(c.target, "target"), "target"),
    read: (r) => ({ target: readId<MessageId>(r, "target") }),
  },
  reaction: {
    kind: 4,
    write(w, c) {
      const target = parseMessageId(c.target, "target");
      const emoji = checkMessageText(c.emoji, REACTION_EMOJI, "emoji");
      writeId(w, target, "target");
      w.string(emoji, REACTION_EMOJI.maxBytes, "emoji").bool(c.remove === true);
    },
    read(r, what) {
      const fields: FieldsOf<"reaction"> = {
        target: readId<MessageId>(r, "target"),
        emoji: readMessageText(r, REACTION_EMOJI, "emoji", what),
      };
      if (r.bool("remove")) fields.remove = true;
      return fields;
    },
  },
  attachment: {
    kind: 5,
    write(w, c) {
      const pointer = encodeAttachmentPointer(c.pointer);
      const caption =
        c.caption === undefined ? undefined : checkMessageText(c.caption, MESSAGE_BODY, "caption");
      if (pointer.length > MESSAGE_POINTER_MAX_BYTES) {
        throw new ParleyError("limit_exceeded", "'pointer' is too large", { field: "pointer" });
      }
      w.bytes(pointer, MESSAGE_POINTER_MAX_BYTES, "pointer").bool(caption !== undefined);
      if (caption !== undefined) w.string(caption, MESSAGE_BODY.maxBytes, "caption");
    },
    read(r, what) {
      const fields: FieldsOf<"attachment"> = {
        pointer: decodeAttachmentPointer(r.bytes(MESSAGE_POINTER_MAX_BYTES, "pointer")),
      };
      if (r.bool("hasCaption")) {
        fields.caption = readMessageText(r, MESSAGE_BODY, "caption", what);
      }
      return fields;
    },
  },
  "profile-key": {
    kind: 6,
    write: (w, c) =>
      w.fixed(
        expectBytes(c.profileKey, PROFILE_KEY_BYTES, "profileKey"),
        PROFILE_KEY_BYTES,
        "profileKey",
      ),
    read: (r) => ({ profileKey: r.fixed(PROFILE_KEY_BYTES, "profileKey") }),
  },
  "disappearing-timer": {
    kind: 7,
    write: (w, c) => w.varint(checkSeconds(c.seconds, 0, "seconds")),
    read: (r) => ({ seconds: r.varint("seconds", MESSAGE_MAX_TIMER_SECONDS) }),
  },
};

/** The known type of a kind byte, if this version knows it. */
export const contentTypeOfKind: ReadonlyMap<number, KnownContentType> = new Map(
  (Object.keys(CONTENT_KINDS) as KnownContentType[]).map((type) => [
    CONTENT_KINDS[type].kind,
    type,
  ]),
);

/**
 * Checks a number of seconds: a non-negative integer (a `RangeError` otherwise, a programming
 * error), at least `min` (`invalid_request`) and at most a year (`limit_exceeded`).
 */
export function checkSeconds(seconds: number, min: number, field: string): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new RangeError(`'${field}' must be a non-negative integer`);
  }
  if (seconds < min) {
    throw new ParleyError("invalid_request", `'${field}' must be at least ${min}`, { field });
  }
  if (seconds > MESSAGE_MAX_TIMER_SECONDS) {
    throw new ParleyError(
      "limit_exceeded",
      `'${field}' must be at most ${MESSAGE_MAX_TIMER_SECONDS}`,
      { field },
    );
  }
  return seconds;
}

function checkMentions(mentions: unknown): UserId[] {
  if (!Array.isArray(mentions)) {
    throw new ParleyError("invalid_request", "'mentions' must be a list of user ids", {
      field: "mentions",
    });
  }
  if (mentions.length > MESSAGE_MAX_MENTIONS) {
    throw new ParleyError(
      "limit_exceeded",
      `'mentions' must hold at most ${MESSAGE_MAX_MENTIONS} users`,
      { field: "mentions" },
    );
  }
  const ids = mentions.map((id, i) => parseUserId(id, `mentions[${i}]`));
  if (new Set(ids).size !== ids.length) {
    throw new ParleyError("invalid_request", "'mentions' names a user twice", {
      field: "mentions",
    });
  }
  return ids;
}

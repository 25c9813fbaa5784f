import { ParleyError } from "../errors.ts";
import type { WireReader, WireWriter } from "../wire/codec.ts";

/**
 * Ids signed into identity structures. The server assigns user and device ids (UUIDv7),
 * conversation ids are UUIDs too. Only the canonical lowercase form is accepted, so an id
 * has exactly one spelling and string equality is identity equality: a signature over
 * `0190…AB` can never be matched against `0190…ab`.
 */
export type UserId = string & { readonly __brand: "UserId" };
/** A device id: canonical lowercase UUID (see {@link UserId}). */
export type DeviceId = string & { readonly __brand: "DeviceId" };
/** A conversation id: canonical lowercase UUID (see {@link UserId}). */
export type ConversationId = string & { readonly __brand: "ConversationId" };
/** A message id: the sender's client-chosen UUIDv7, canonical lowercase (see {@link UserId}). */
export type MessageId = string & { readonly __brand: "MessageId" };

/** Wire bound on an id's UTF-8 length: room for other id formats without a wire change. */
export const ID_MAX_BYTES = 64;

/** 8-4-4-4-12 lowercase hex; the version nibble is not checked (the server picks v7). */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** True when `value` is a canonical lowercase UUID string. */
export function isCanonicalId(value: unknown): value is string {
  return typeof value === "string" && CANONICAL_UUID.test(value);
}

function parseId<T extends string>(value: unknown, name: string): T {
  if (!isCanonicalId(value)) {
    throw new ParleyError("invalid_request", `'${name}' must be a lowercase UUID`, {
      field: name,
    });
  }
  return value as T;
}

/** Checks and brands a user id; ParleyError `invalid_request` when it is not canonical. */
export const parseUserId = (value: unknown, name = "userId"): UserId =>
  parseId<UserId>(value, name);
/** Checks and brands a device id; ParleyError `invalid_request` when it is not canonical. */
export const parseDeviceId = (value: unknown, name = "deviceId"): DeviceId =>
  parseId<DeviceId>(value, name);
/** Checks and brands a conversation id; ParleyError `invalid_request` when not canonical. */
export const parseConversationId = (value: unknown, name = "conversationId"): ConversationId =>
  parseId<ConversationId>(value, name);
/** Checks and brands a message id; ParleyError `invalid_request` when it is not canonical. */
export const parseMessageId = (value: unknown, name = "messageId"): MessageId =>
  parseId<MessageId>(value, name);

/** Writes an id as a bounded string (callers pass ids already parsed). */
export function writeId(w: WireWriter, id: string, name: string): void {
  if (!isCanonicalId(id)) throw new RangeError(`'${name}' is not a canonical id`);
  w.string(id, ID_MAX_BYTES, name);
}

/** Reads an id; a non-canonical one is `malformed_message` like any other decoding failure. */
export function readId<T extends UserId | DeviceId | ConversationId | MessageId>(
  r: WireReader,
  name: string,
): T {
  const text = r.string(ID_MAX_BYTES, name);
  if (!isCanonicalId(text)) throw malformedField(name, "not a canonical id");
  return text as T;
}

/** A `malformed_message` error naming the field, for checks decoders make beyond the codec. */
export function malformedField(name: string, detail: string): ParleyError {
  return new ParleyError("malformed_message", undefined, {
    field: name,
    detail: `${name}: ${detail}`,
  });
}

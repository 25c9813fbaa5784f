import { utf8 } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";
import type { WireReader } from "../wire/codec.ts";

/**
 * Rules for the texts inside message content: a message body or caption (several lines) and
 * a reaction (one line). Like the profile texts (protocol/profile/fields.ts), a text must
 * hold something besides white space, is not normalised, and refuses control characters and
 * lone surrogates (UTF-8 cannot carry them: the receiver would see U+FFFD instead); a body
 * may also hold line feeds and tabs. A line break is a single LF: clients turn CRLF into LF
 * before sending, so a text has one spelling. Lengths count UTF-8 bytes, what the wire and
 * the padding see; the encoder and the decoder apply the same rule.
 */
export interface MessageTextRule {
  /** Most UTF-8 bytes. */
  maxBytes: number;
  /** Whether line feeds and tabs are allowed. */
  multiline: boolean;
}

/** A message body or caption: up to 64 KiB of UTF-8, several lines. */
export const MESSAGE_BODY: MessageTextRule = { maxBytes: 65_536, multiline: true };

/**
 * A reaction: one emoji (or any short text) up to 64 bytes. The longest emoji sequences, a
 * kiss or a couple with two skin tones, take 35 bytes and a subdivision flag 28, so a smaller
 * bound would refuse real emoji; all reactions pad to the same size anyway.
 */
export const REACTION_EMOJI: MessageTextRule = { maxBytes: 64, multiline: false };

// Control characters (C0, DEL, C1) and lone surrogates, apart from LF and tab in a body.
const FORBIDDEN_SINGLE_LINE = /[\p{Cc}\p{Cs}]/u;
const FORBIDDEN_MULTILINE = /(?![\t\n])[\p{Cc}\p{Cs}]/u;

/** What is wrong with `text` under `rule`, or undefined when it is fine. */
export function messageTextProblem(
  text: unknown,
  rule: MessageTextRule,
): { code: "invalid_request" | "limit_exceeded"; message: string } | undefined {
  if (typeof text !== "string") return { code: "invalid_request", message: "must be text" };
  const forbidden = rule.multiline ? FORBIDDEN_MULTILINE : FORBIDDEN_SINGLE_LINE;
  if (forbidden.test(text)) {
    return { code: "invalid_request", message: "must not contain control characters" };
  }
  if (text.trim().length === 0) return { code: "invalid_request", message: "must not be empty" };
  if (utf8(text).length > rule.maxBytes) {
    return { code: "limit_exceeded", message: `must be at most ${rule.maxBytes} bytes of UTF-8` };
  }
  return undefined;
}

/** Returns `text` if it follows `rule`; otherwise throws the typed error naming `field`. */
export function checkMessageText(text: unknown, rule: MessageTextRule, field: string): string {
  const problem = messageTextProblem(text, rule);
  if (problem) throw new ParleyError(problem.code, `'${field}' ${problem.message}`, { field });
  return text as string;
}

/** Reads a text field and applies `rule`; a breach is `malformed_message`. */
export function readMessageText(
  r: WireReader,
  rule: MessageTextRule,
  field: string,
  what: string,
): string {
  const text = r.string(rule.maxBytes, field);
  const problem = messageTextProblem(text, rule);
  if (problem) {
    throw new ParleyError("malformed_message", undefined, {
      detail: `${what}: '${field}' ${problem.message}`,
    });
  }
  return text;
}

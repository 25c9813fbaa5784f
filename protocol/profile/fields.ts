import { ParleyError } from "../errors.ts";
import type { WireReader } from "../wire/codec.ts";

/**
 * Rules for the short texts people type into a profile or a device name, shared by the
 * encoder (bad input: a typed error naming the field) and the decoder (an authentic
 * plaintext breaking them: `malformed_message`). Lengths count Unicode code points, what a
 * person sees as characters far more closely than UTF-16 units; a code point is at most 4
 * UTF-8 bytes, so `maxChars` characters fit `4 × maxChars` bytes on the wire. Text is not
 * normalised: what the owner typed is what their contacts get. Control characters (line
 * breaks included) are refused: a name or status is one line.
 */
export interface TextRule {
  /** Fewest characters; 1 also refuses text of only white space. */
  minChars: number;
  maxChars: number;
}

/** Bytes the UTF-8 encoding of a text within `rule` can take. */
export const maxTextBytes = (rule: TextRule) => 4 * rule.maxChars;

// Control characters (C0, DEL, C1) and lone surrogates, which UTF-8 cannot carry.
const FORBIDDEN = /[\p{Cc}\p{Cs}]/u;

/** What is wrong with `text` under `rule`, or undefined when it is fine. */
export function textProblem(
  text: unknown,
  rule: TextRule,
): { code: "invalid_request" | "limit_exceeded"; message: string } | undefined {
  if (typeof text !== "string") return { code: "invalid_request", message: "must be text" };
  const chars = [...text].length;
  if (chars > rule.maxChars) {
    return { code: "limit_exceeded", message: `must be at most ${rule.maxChars} characters` };
  }
  if (chars < rule.minChars || (rule.minChars > 0 && text.trim().length === 0)) {
    return { code: "invalid_request", message: "must not be empty" };
  }
  if (FORBIDDEN.test(text)) {
    return { code: "invalid_request", message: "must not contain control characters" };
  }
  return undefined;
}

/** Returns `text` if it follows `rule`; otherwise throws the typed error naming `field`. */
export function checkText(text: unknown, rule: TextRule, field: string): string {
  const problem = textProblem(text, rule);
  if (problem) {
    throw new ParleyError(problem.code, `'${field}' ${problem.message}`, { field });
  }
  return text as string;
}

/** Reads a text field and applies `rule`; a breach is `malformed_message`. */
export function readText(r: WireReader, rule: TextRule, field: string, what: string): string {
  const text = r.string(maxTextBytes(rule), field);
  const problem = textProblem(text, rule);
  if (problem) {
    throw new ParleyError("malformed_message", undefined, {
      detail: `${what}: '${field}' ${problem.message}`,
    });
  }
  return text;
}

/**
 * `encoded` followed by zeros up to `size` bytes. Every field before the padding carries its
 * own length, so the reader knows where the content ends without a stored size.
 */
export function padWithZeros(encoded: Uint8Array, size: number): Uint8Array {
  if (size < encoded.length) throw new RangeError("padded size below the content's length");
  const out = new Uint8Array(size);
  out.set(encoded);
  return out;
}

/**
 * Consumes the padding after the last field: every remaining byte must be zero (one
 * spelling per content), else `malformed_message`.
 */
export function readZeroPadding(r: WireReader, what: string): void {
  const padding = r.fixed(r.remaining(), "padding");
  if (padding.some((b) => b !== 0)) {
    throw new ParleyError("malformed_message", undefined, { detail: `${what}: non-zero padding` });
  }
  r.end();
}

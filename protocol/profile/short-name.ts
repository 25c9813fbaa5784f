import { ParleyError } from "../errors.ts";
import { decodeWith, WireReader, type WireType, WireWriter } from "../wire/codec.ts";
import {
  checkText,
  maxTextBytes,
  padWithZeros,
  readText,
  readZeroPadding,
  type TextRule,
} from "./fields.ts";
import { SEALED_OVERHEAD_BYTES } from "./sealed.ts";

/**
 * The content of a short name sealed under the account key (a device name, a contact
 * nickname): `01 ‖ type u8 ‖ name str ‖ zero padding`, to exactly SHORT_NAME_PADDED_BYTES,
 * so every sealed name has the same length whatever it says.
 */

/** 1–64 characters, not only white space, no control characters. */
export const SHORT_NAME: TextRule = { minChars: 1, maxChars: 64 };
/** The encoded content of the longest name: version, type, a 2-byte length, 256 bytes. */
export const SHORT_NAME_PADDED_BYTES = 2 + 2 + maxTextBytes(SHORT_NAME);
/** Length of every sealed short name: 289 bytes. */
export const SHORT_NAME_SEALED_BYTES = SEALED_OVERHEAD_BYTES + SHORT_NAME_PADDED_BYTES;

/** Encodes and pads a name; `limit_exceeded` or `invalid_request` naming `field` if bad. */
export function encodeShortName(type: WireType, name: string, field: string): Uint8Array {
  const text = checkText(name, SHORT_NAME, field);
  const encoded = new WireWriter(type).string(text, maxTextBytes(SHORT_NAME), field).finish();
  return padWithZeros(encoded, SHORT_NAME_PADDED_BYTES);
}

/** Decodes a padded name; any failure (a wrong padded size too) is `malformed_message`. */
export function decodeShortName(
  type: WireType,
  input: Uint8Array,
  what: string,
  field: string,
): string {
  return decodeWith(what, () => {
    const r = new WireReader(input, type, what);
    if (input.length !== SHORT_NAME_PADDED_BYTES) {
      throw new ParleyError("malformed_message", undefined, {
        detail: `${what}: padded to ${input.length} bytes`,
      });
    }
    const name = readText(r, SHORT_NAME, field, what);
    readZeroPadding(r, what);
    return name;
  });
}

import { ParleyError } from "../errors.ts";

/**
 * Binary values travel in JSON as base64url without padding (RFC 4648 §5). Decoding is
 * strict: any other alphabet, padding, or a length no encoder produces is refused, so each
 * value has exactly one spelling.
 */
export function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** Decodes base64url; throws ParleyError `invalid_request` naming the field otherwise. */
export function fromBase64Url(text: string, field: string): Uint8Array {
  if (!BASE64URL.test(text) || text.length % 4 === 1) {
    throw new ParleyError("invalid_request", `'${field}' is not valid base64url`, { field });
  }
  const binary = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  if (toBase64Url(bytes) !== text) {
    throw new ParleyError("invalid_request", `'${field}' is not valid base64url`, { field });
  }
  return bytes;
}

/** Characters of the base64url encoding of `bytes` bytes. */
export function base64UrlLength(bytes: number): number {
  return Math.ceil((bytes * 4) / 3);
}

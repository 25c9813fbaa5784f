import { ParleyError } from "../errors.ts";

/**
 * Attachment size padding. Blob sizes are visible to the server, so an exact size would
 * identify a file someone has seen before; padding rounds it up to one of a sparse set of
 * buckets, Signal's: `max(541, floor(1.05^ceil(log_1.05(n))))`. A file grows by less than 5 %
 * (or to 541 bytes), and sizes within 5 % of each other mostly look the same.
 */

/** Largest attachment plaintext, before padding (the server's default media limit, 100 MiB). */
export const ATTACHMENT_MAX_PLAINTEXT_BYTES = 100 * 1024 * 1024;

/** Smallest padded size: every attachment, even an empty one, is at least this long. */
export const ATTACHMENT_MIN_PADDED_BYTES = 541;

/**
 * `floor(1.05^k)` for k = 0, 1, 2, … up to the first value ≥ the largest plaintext,
 * computed exactly as `21^k div 20^k` in integers. The usual floating-point formula agrees on
 * every size up to the maximum here, but `Math.pow`/`Math.log` are not correctly rounded and
 * differ between engines; since the decryptor derives the blob size from the plaintext size,
 * sender and receiver must agree on every bucket exactly, whatever engine each runs on.
 */
const BUCKETS: readonly number[] = (() => {
  const out: number[] = [];
  let numerator = 1n;
  let denominator = 1n;
  for (;;) {
    const bucket = Number(numerator / denominator);
    out.push(bucket);
    if (bucket >= ATTACHMENT_MAX_PLAINTEXT_BYTES) return out;
    numerator *= 21n;
    denominator *= 20n;
  }
})();

/**
 * The padded size of an attachment of `size` plaintext bytes: the smallest `floor(1.05^k)`
 * that is ≥ `size`, and at least 541. Throws `limit_exceeded` above
 * `ATTACHMENT_MAX_PLAINTEXT_BYTES`.
 */
export function attachmentPaddedSize(size: number): number {
  checkAttachmentSize(size, "size");
  // Smallest bucket ≥ size: binary search over the increasing table.
  let lo = 0;
  let hi = BUCKETS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (BUCKETS[mid]! >= size) hi = mid;
    else lo = mid + 1;
  }
  return Math.max(ATTACHMENT_MIN_PADDED_BYTES, BUCKETS[lo]!);
}

/** The padded size of the largest attachment (107,335,738 bytes). */
export const ATTACHMENT_MAX_PADDED_BYTES = attachmentPaddedSize(ATTACHMENT_MAX_PLAINTEXT_BYTES);

/**
 * Checks a plaintext size: a non-negative integer (a `RangeError` otherwise, a programming
 * error) no larger than `ATTACHMENT_MAX_PLAINTEXT_BYTES` (`limit_exceeded`, naming `field`).
 */
export function checkAttachmentSize(size: number, field: string): void {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError(`'${field}' must be a non-negative integer`);
  }
  if (size > ATTACHMENT_MAX_PLAINTEXT_BYTES) {
    throw new ParleyError(
      "limit_exceeded",
      `Attachments are limited to ${ATTACHMENT_MAX_PLAINTEXT_BYTES} bytes.`,
      { field, detail: `${field} = ${size}` },
    );
  }
}

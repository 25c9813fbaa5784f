import { attachmentPaddedSize } from "../attachments/padding.ts";

/**
 * Message content is padded before sender-key encryption, so a ciphertext's length does not
 * reveal its text's. Every content of up to 160 bytes — a text of about 140 bytes, any
 * reaction, deletion, profile key or timer change — pads to 160; longer ones take the
 * attachment buckets (§7: 541 bytes, then steps of about 5 %, exact in integers). 160 is
 * Signal's message padding block.
 */
export const MESSAGE_CONTENT_MIN_PADDED_BYTES = 160;

/** The padded size of a content whose fields take `size` bytes. */
export function messageContentPaddedSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new RangeError("'size' must be a non-negative integer");
  }
  return size <= MESSAGE_CONTENT_MIN_PADDED_BYTES
    ? MESSAGE_CONTENT_MIN_PADDED_BYTES
    : attachmentPaddedSize(size);
}

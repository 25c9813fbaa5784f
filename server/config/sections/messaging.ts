import { Type } from "@sinclair/typebox";

/** Conversation messages and to-device envelopes. */
export const messagingKeys = {
  messages: Type.Object(
    {
      max_ciphertext_bytes: Type.Integer({
        minimum: 1024,
        maximum: 1024 * 1024,
        default: 64 * 1024,
        description:
          "Largest message ciphertext, in bytes (attachments travel separately, as blobs).",
      }),
      max_key_header_bytes: Type.Integer({
        minimum: 16 * 1024,
        maximum: 1024 * 1024,
        default: 512 * 1024,
        description:
          "Largest total of the key headers one message carries (one per recipient device: a 20-member group with 6 devices each needs about 200 KB).",
      }),
      to_device_ttl_days: Type.Integer({
        minimum: 1,
        maximum: 365,
        default: 30,
        description:
          "Days an unacknowledged to-device envelope (key re-share, call keys) waits for its device.",
      }),
      sweep_interval_s: Type.Integer({
        minimum: 1,
        maximum: 3600,
        default: 30,
        description:
          "Seconds between sweeps that erase expired (disappearing) messages and to-device envelopes.",
      }),
    },
    { default: {} },
  ),
};

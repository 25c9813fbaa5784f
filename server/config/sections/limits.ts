import { Type } from "@sinclair/typebox";

const rate = (fallback: number, description: string) =>
  Type.Integer({ minimum: 1, maximum: 1_000_000, default: fallback, description });

/** Rate limits (sliding windows) and the shared store they use with several nodes. */
export const limitKeys = {
  limits: Type.Object(
    {
      messages_per_minute: rate(
        20,
        "Conversation messages a user may send per minute (the seed's limit).",
      ),
      requests_per_minute: rate(
        100,
        "API requests a user may make per minute, protocol traffic aside.",
      ),
      protocol_per_minute: rate(
        1_000,
        "Protocol requests (key uploads and fetches, key headers, re-share requests, acknowledgements) a user may make per minute; generous, so they are never starved.",
      ),
      registrations_per_hour: rate(10, "Account registrations per client address per hour."),
      sign_ins_per_minute: rate(
        10,
        "Device sign-ins with a device secret per client address per minute.",
      ),
      refreshes_per_minute: rate(
        600,
        "Token refreshes per client address per minute (each device refreshes about every 15 minutes; many devices can share an address behind a NAT).",
      ),
      otp_per_hour: rate(
        5,
        "One-time codes sent per phone number or email address, and per client address, per hour.",
      ),
      key_fetches_per_minute: rate(
        60,
        "Other users' key bundles a user may fetch per minute (against enumeration).",
      ),
    },
    { default: {} },
  ),
  redis: Type.Object(
    {
      url: Type.String({
        default: "",
        description:
          "redis:// URL shared by several Parley nodes for rate limits, presence and fan-out. Empty: in this process only.",
      }),
    },
    { default: {} },
  ),
};

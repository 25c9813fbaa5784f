import { expect, test } from "bun:test";
import type { Config } from "../config/schema.ts";
import { OtpDeliveryError } from "../domain/ports/otp-sender.ts";
import { otpSenderFor } from "./otp-sender.ts";

const config = (provider: Config["otp"]["provider"]) =>
  ({
    otp: { provider },
    twilio: {
      account_sid: "AC123",
      auth_token: "token",
      from: "+15550001111",
      // Nothing listens on port 9: every send fails.
      api_url: "http://127.0.0.1:9",
    },
    smtp: {
      host: "127.0.0.1",
      port: 9,
      secure: false,
      username: "",
      password: "",
      from: "noreply@example.org",
    },
  }) as unknown as Config;

test("no provider, no sender", () => {
  expect(otpSenderFor(config("none"), () => {})).toBeUndefined();
});

test("a provider's failure reaches the domain as its OtpDeliveryError", async () => {
  const sender = otpSenderFor(config("twilio"), () => {})!;
  expect(sender.channels).toEqual(["sms"]);
  const failure = await sender
    .send({ channel: "sms", to: "+15550002222", code: "123456", expiresInMinutes: 10 })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(failure).toBeInstanceOf(OtpDeliveryError);
  expect((failure as OtpDeliveryError).detail).not.toContain("15550002222");
  await sender.close?.();
});

import { describe, expect, test } from "bun:test";
import { createOtpSender, type OtpConfig } from "./index.ts";

const config = (provider: OtpConfig["otp"]["provider"]): OtpConfig => ({
  otp: { provider },
  twilio: {
    account_sid: "AC123",
    auth_token: "token",
    from: "+15550001111",
    api_url: "https://api.twilio.com",
  },
  smtp: {
    host: "127.0.0.1",
    port: 587,
    secure: false,
    username: "",
    password: "",
    from: "noreply@example.org",
  },
});

describe("createOtpSender", () => {
  test("none: no sender", () => {
    expect(createOtpSender(config("none"), () => {})).toBeUndefined();
  });

  test("twilio: SMS only", () => {
    expect(createOtpSender(config("twilio"), () => {})?.channels).toEqual(["sms"]);
  });

  test("smtp: email only, with a close()", async () => {
    const sender = createOtpSender(config("smtp"), () => {});
    expect(sender?.channels).toEqual(["email"]);
    expect(sender?.close).toBeFunction();
    await sender?.close?.();
  });

  test("console: both channels, lines go to the given function", async () => {
    const lines: string[] = [];
    const sender = createOtpSender(config("console"), (line) => lines.push(line));
    expect(sender?.channels).toEqual(["sms", "email"]);
    await sender?.send({
      channel: "email",
      to: "dev@example.org",
      code: "111222",
      expiresInMinutes: 3,
    });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("111222");
  });
});

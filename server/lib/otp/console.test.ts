import { describe, expect, test } from "bun:test";
import { consoleSender, maskDestination } from "./console.ts";

describe("consoleSender", () => {
  test("writes one line with the code once and the destination masked", async () => {
    const lines: string[] = [];
    const sender = consoleSender((line) => lines.push(line));
    expect(sender.channels).toEqual(["sms", "email"]);
    await sender.send({ channel: "sms", to: "+15551234567", code: "123456", expiresInMinutes: 10 });
    expect(lines).toEqual(["one-time code for +15…67: 123456 (expires in 10 min)"]);
    expect(lines[0]!.split("123456")).toHaveLength(2);
    expect(lines[0]).not.toContain("5551234");
  });

  test("masks email addresses the same way", async () => {
    const lines: string[] = [];
    await consoleSender((line) => lines.push(line)).send({
      channel: "email",
      to: "alice@example.org",
      code: "987654",
      expiresInMinutes: 5,
    });
    expect(lines).toEqual(["one-time code for ali…rg: 987654 (expires in 5 min)"]);
  });

  test.each([
    ["+15551234567", "+15…67"],
    ["bob@x.io", "bob…io"],
    ["abcdef", "abc…ef"],
    ["abcde", "…"],
    ["", "…"],
  ])("maskDestination(%p) is %p", (to, masked) => {
    expect(maskDestination(to)).toBe(masked);
  });
});

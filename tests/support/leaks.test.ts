import { expect, test } from "bun:test";
import { findLeaks } from "./leaks.ts";

// The detector itself must catch every spelling, or the leak tests prove nothing.
test("finds a secret raw, in hex and in base64 at any alignment", () => {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  const place = (text: string | Uint8Array) => [
    { path: "p", bytes: typeof text === "string" ? new TextEncoder().encode(text) : text },
  ];
  const wrapped = (prefix: number) => {
    const v = new Uint8Array(prefix + 32 + 5);
    v.set(secret, prefix);
    return Buffer.from(v);
  };
  expect(findLeaks({ s: secret }, place(Buffer.concat([Buffer.from("xx"), secret])))).toEqual([
    "s in p",
  ]);
  expect(
    findLeaks({ s: secret }, place(`{"k":"${Buffer.from(secret).toString("hex")}"}`)),
  ).toHaveLength(1);
  expect(
    findLeaks({ s: secret }, place(Buffer.from(secret).toString("hex").toUpperCase())),
  ).toHaveLength(1);
  for (let prefix = 0; prefix < 6; prefix++) {
    expect(findLeaks({ s: secret }, place(wrapped(prefix).toString("base64")))).toHaveLength(1);
    expect(findLeaks({ s: secret }, place(wrapped(prefix).toString("base64url")))).toHaveLength(1);
  }
  expect(findLeaks({ s: secret }, place(crypto.getRandomValues(new Uint8Array(4096))))).toEqual([]);
});

import { expect, test } from "bun:test";
import { ParleyError } from "../errors.ts";
import { fromBase64Url, toBase64Url } from "./base64.ts";

// An independent reference for the spelling: Node's Buffer (base64url, no padding).
const reference = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");

test("encodes as base64url without padding and decodes back, every length", () => {
  for (let length = 0; length < 70; length++) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const text = toBase64Url(bytes);
    expect(text).toBe(reference(bytes));
    expect(fromBase64Url(text, "f")).toEqual(bytes);
  }
  const big = crypto.getRandomValues(new Uint8Array(200_000));
  expect(fromBase64Url(toBase64Url(big), "f")).toEqual(big);
});

test("refuses every other spelling, naming the field", () => {
  for (const bad of ["AQ==", "AQ=", "+/8", "a", "AR", "AQ_", "A Q", "AQ\n"]) {
    let error: unknown;
    try {
      fromBase64Url(bad, "body.key");
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).field).toBe("body.key");
  }
});

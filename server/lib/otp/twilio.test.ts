import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { twilioSender } from "./twilio.ts";
import { OtpDeliveryError } from "./types.ts";

const SID = "AC0123456789abcdef0123456789abcdef";
const TOKEN = "s3cr3t-auth-token-never-logged";
const CODE = "482913";
// Not the example number of the "international format" message, which is no one's.
const TO = "+15557654321";

interface Seen {
  method: string;
  path: string;
  authorization: string | null;
  contentType: string | null;
  form: URLSearchParams;
}

const seen: Seen[] = [];
let reply: () => Response | Promise<Response> = () => new Response("{}", { status: 201 });

// A stand-in for api.twilio.com: records each request and answers with `reply`.
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    seen.push({
      method: req.method,
      path: url.pathname,
      authorization: req.headers.get("authorization"),
      contentType: req.headers.get("content-type"),
      form: new URLSearchParams(await req.text()),
    });
    return reply();
  },
});
const apiUrl = `http://127.0.0.1:${server.port}`;

afterAll(() => server.stop(true));
beforeEach(() => {
  seen.length = 0;
  reply = () => Response.json({ sid: "SM123", status: "queued" }, { status: 201 });
});

const sender = (from = "+15550001111", timeoutMs?: number) =>
  twilioSender({ accountSid: SID, authToken: TOKEN, from, apiUrl, timeoutMs });

async function sendError(promise: Promise<void>): Promise<OtpDeliveryError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OtpDeliveryError);
  const error = err as OtpDeliveryError;
  expect(error.name).toBe("OtpDeliveryError");
  for (const text of [error.message, error.detail]) {
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(CODE);
    // The number is personal data: not in the log either, with or without its plus.
    expect(text).not.toContain(TO.slice(1));
  }
  return error;
}

describe("twilioSender against a mock Twilio API", () => {
  test("posts the message with Basic auth and the form fields", async () => {
    const s = sender();
    expect(s.channels).toEqual(["sms"]);
    await s.send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 10 });
    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe(`/2010-04-01/Accounts/${SID}/Messages.json`);
    expect(req.authorization).toBe(`Basic ${btoa(`${SID}:${TOKEN}`)}`);
    expect(req.contentType).toContain("application/x-www-form-urlencoded");
    expect(req.form.get("To")).toBe(TO);
    expect(req.form.get("From")).toBe("+15550001111");
    expect(req.form.has("MessagingServiceSid")).toBe(false);
    expect(req.form.get("Body")).toBe(`Your Parley code is ${CODE}. It expires in 10 minutes.`);
  });

  test("a messaging service SID goes in MessagingServiceSid, not From", async () => {
    const service = "MG0123456789abcdef0123456789abcdef";
    await sender(service).send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 5 });
    expect(seen[0]!.form.get("MessagingServiceSid")).toBe(service);
    expect(seen[0]!.form.has("From")).toBe(false);
  });

  test("a 400 with Twilio's error body: safe message, Twilio's code in the detail", async () => {
    reply = () =>
      Response.json(
        {
          code: 21211,
          message: `The 'To' number ${TO} is not a valid phone number.`,
          more_info: "https://www.twilio.com/docs/errors/21211",
          status: 400,
        },
        { status: 400 },
      );
    const err = await sendError(
      sender().send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 10 }),
    );
    expect(err.message).toBe("The code could not be sent by SMS.");
    expect(err.detail).toContain("400");
    expect(err.detail).toContain("21211");
    expect(err.detail).toContain("is not a valid phone number");
  });

  test("an answer that echoes the token or the code has them redacted", async () => {
    reply = () => new Response(`bad request ${TOKEN} ${CODE}`, { status: 400 });
    const err = await sendError(
      sender().send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 10 }),
    );
    expect(err.detail).toContain("[redacted]");
  });

  test("an answer that repeats the To number has it redacted, in every spelling", async () => {
    reply = () =>
      Response.json(
        {
          code: 21614,
          message: `'To' number ${TO} is not a valid mobile number (To=%2B${TO.slice(1)})`,
          status: 400,
        },
        { status: 400 },
      );
    const err = await sendError(
      sender().send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 10 }),
    );
    expect(err.detail).toContain("21614");
    expect(err.detail).toContain("'To' number [redacted] is not a valid mobile number");
  });

  test("a 500 with a non-JSON body", async () => {
    reply = () => new Response("<html>upstream error</html>", { status: 500 });
    const err = await sendError(
      sender().send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 10 }),
    );
    expect(err.detail).toContain("500");
    expect(err.detail).toContain("upstream error");
  });

  test("a server that does not answer in time", async () => {
    reply = async () => {
      await Bun.sleep(1_000);
      return new Response("{}", { status: 201 });
    };
    const started = performance.now();
    const err = await sendError(
      sender(undefined, 100).send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 10 }),
    );
    expect(performance.now() - started).toBeLessThan(900);
    expect(err.detail).toMatch(/timeout|abort/i);
  });

  test("a server that cannot be reached", async () => {
    const s = twilioSender({
      accountSid: SID,
      authToken: TOKEN,
      from: "+15550001111",
      apiUrl: "http://127.0.0.1:1",
    });
    const err = await sendError(
      s.send({ channel: "sms", to: TO, code: CODE, expiresInMinutes: 1 }),
    );
    expect(err.detail).toContain("twilio request failed");
  });

  test.each(["15551234567", "+05551234567", "+1555", "+1555123456789012", "+1 555 123 4567"])(
    "refuses %p as a destination without calling Twilio",
    async (to) => {
      const err = await sendError(
        sender().send({ channel: "sms", to, code: CODE, expiresInMinutes: 10 }),
      );
      expect(err.message).toContain("international format");
      expect(seen).toHaveLength(0);
    },
  );

  test("refuses the email channel", async () => {
    await sendError(
      sender().send({ channel: "email", to: "a@example.org", code: CODE, expiresInMinutes: 10 }),
    );
    expect(seen).toHaveLength(0);
  });
});

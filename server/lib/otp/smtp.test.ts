import { afterEach, describe, expect, test } from "bun:test";
import { Value } from "@sinclair/typebox/value";
import { SMTPServer, type SMTPServerOptions } from "smtp-server";
import { Email } from "../../../protocol/api/accounts.ts";
import { smtpSender } from "./smtp.ts";
import type { OtpSender } from "./types.ts";
import { OtpDeliveryError } from "./types.ts";

const USER = "parley";
const PASSWORD = "smtp-pass-never-logged";
const CODE = "730415";
const FROM = "Parley <noreply@chat.example.org>";

interface Received {
  authMethod: string;
  from: string;
  to: string[];
  raw: string;
}

interface TestServer {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/** A real SMTP server (nodemailer's smtp-server) on a free port, plain TCP, AUTH required. */
async function startServer(options: Partial<SMTPServerOptions> = {}): Promise<TestServer> {
  const received: Received[] = [];
  const authMethods = new Map<string, string>();
  const server = new SMTPServer({
    logger: false,
    // No TLS in the test: STARTTLS is not offered and AUTH is allowed in the clear.
    disabledCommands: ["STARTTLS"],
    allowInsecureAuth: true,
    authMethods: ["PLAIN", "LOGIN"],
    onAuth(auth, session, callback) {
      if (auth.username !== USER || auth.password !== PASSWORD) {
        callback(new Error("Invalid username or password"));
        return;
      }
      authMethods.set(session.id, auth.method);
      callback(null, { user: auth.username });
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          authMethod: authMethods.get(session.id) ?? "",
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
    ...options,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    port: address.port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(serverOptions: Partial<SMTPServerOptions> = {}) {
  const server = await startServer(serverOptions);
  const sender = smtpSender({
    host: "127.0.0.1",
    port: server.port,
    secure: false,
    username: USER,
    password: PASSWORD,
    from: FROM,
  });
  cleanups.push(server.close, () => sender.close!());
  return { server, sender };
}

async function sendError(sender: OtpSender, to: string): Promise<OtpDeliveryError> {
  const err = await sender.send({ channel: "email", to, code: CODE, expiresInMinutes: 10 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OtpDeliveryError);
  const error = err as OtpDeliveryError;
  expect(["The code could not be sent by email.", "The email address is not valid."]).toContain(
    error.message,
  );
  for (const text of [error.message, error.detail]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(CODE);
    // The address is personal data: not in the log either.
    expect(text).not.toContain(to);
  }
  return error;
}

describe("smtpSender against a local SMTP server", () => {
  test.each(["PLAIN", "LOGIN"])(
    "authenticates with AUTH %s and delivers the code",
    async (method) => {
      const { server, sender } = await setup({ authMethods: [method] });
      expect(sender.channels).toEqual(["email"]);
      await sender.send({
        channel: "email",
        to: "alice@example.org",
        code: CODE,
        expiresInMinutes: 10,
      });
      expect(server.received).toHaveLength(1);
      const mail = server.received[0]!;
      expect(mail.authMethod).toBe(method);
      expect(mail.from).toBe("noreply@chat.example.org");
      expect(mail.to).toEqual(["alice@example.org"]);
      expect(mail.raw).toMatch(/^Subject: Your Parley code\r$/m);
      expect(mail.raw).toMatch(/^To: alice@example\.org\r$/m);
      expect(mail.raw).toMatch(/^Content-Type: text\/plain/m);
      expect(mail.raw).toContain(`Your Parley code is ${CODE}. It expires in 10 minutes.`);
    },
  );

  test("a recipient the server rejects", async () => {
    const { server, sender } = await setup({
      onRcptTo(address, _session, callback) {
        // Like many servers, the refusal repeats the address.
        const err = Object.assign(new Error(`No such user here: <${address.address}>`), {
          responseCode: 550,
        });
        callback(address.address === "nobody@example.org" ? err : null);
      },
    });
    const err = await sendError(sender, "nobody@example.org");
    expect(err.message).toBe("The code could not be sent by email.");
    expect(err.detail).toContain("EENVELOPE");
    expect(err.detail).toContain("No such user here: <[redacted]>");
    expect(server.received).toHaveLength(0);
  });

  test("a wrong password", async () => {
    const server = await startServer();
    const sender = smtpSender({
      host: "127.0.0.1",
      port: server.port,
      secure: false,
      username: USER,
      password: "wrong-password",
      from: FROM,
    });
    cleanups.push(server.close, () => sender.close!());
    const err = await sendError(sender, "alice@example.org");
    expect(err.detail).toContain("EAUTH");
    expect(err.detail).not.toContain("wrong-password");
  });

  test("a server that refuses the connection", async () => {
    // Port 1 (tcpmux) is closed on any test machine: the connect is refused at once.
    const sender = smtpSender({
      host: "127.0.0.1",
      port: 1,
      secure: false,
      username: USER,
      password: PASSWORD,
      from: FROM,
    });
    cleanups.push(() => sender.close!());
    const err = await sendError(sender, "alice@example.org");
    expect(err.detail).toContain("ECONNREFUSED");
  });

  test.each([
    "alice@example.org, bob@example.org",
    "alice@example.org;bob@example.org",
    "Bob <bob@example.org>",
    "alice@example.org\r\nBcc: bob@example.org",
    "not-an-address",
  ])("refuses %p as a destination without connecting", async (to) => {
    const { server, sender } = await setup();
    const err = await sendError(sender, to);
    expect(err.message).toBe("The email address is not valid.");
    expect(server.received).toHaveLength(0);
  });

  test("takes exactly the addresses the API takes (one pattern, protocol/api)", async () => {
    const { sender } = await setup();
    const addresses = [
      "alice@example.org",
      "a.b+tag@mail.example.co.uk",
      'a"b@example.org',
      "a(b)@example.org",
      "a[b]@example.org",
      "a\\b@example.org",
      "alice@example",
      "alice@@example.org",
    ];
    const byApi: Record<string, boolean> = {};
    const bySender: Record<string, boolean> = {};
    for (const to of addresses) {
      byApi[to] = Value.Check(Email, to);
      const refused = await sender
        .send({ channel: "email", to, code: CODE, expiresInMinutes: 10 })
        .then(
          () => false,
          (e: OtpDeliveryError) => e.message === "The email address is not valid.",
        );
      bySender[to] = !refused;
    }
    expect(bySender).toEqual(byApi);
    expect(byApi['a"b@example.org']).toBe(false);
  });
});

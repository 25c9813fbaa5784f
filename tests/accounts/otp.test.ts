// One-time codes through a real server and the real sdk: the 5-attempt limit under parallel
// guesses, one account per email address whatever its case, the API's email pattern, codes
// sent only in OTP mode, a spent code named as a code. Then, on the real store (every
// driver), the attempt limit against guesses that all start at once in one process, and the
// TOTP enrolment that a restart cannot undo.
import { Database } from "bun:sqlite";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { RegisterRequest } from "../../protocol/api/accounts.ts";
import { ParleyError } from "../../protocol/errors.ts";
import { register } from "../../sdk/account.ts";
import { ApiClient } from "../../sdk/api-client.ts";
import { otpService } from "../../server/domain/accounts/otp.ts";
import { totpService } from "../../server/domain/accounts/totp.ts";
import { writeError } from "../../server/domain/accounts/write-error.ts";
import type { TotpStore } from "../../server/domain/ports/totp.ts";
import type { UserId } from "../../server/domain/ports.ts";
import { auditRepository } from "../../server/store/repos/audit.ts";
import { otpStore } from "../../server/store/repos/otp-store.ts";
import { totpStore } from "../../server/store/repos/totp-store.ts";
import { users } from "../../server/store/schema.ts";
import { accountsFixture } from "../support/accounts.ts";
import { apiClient, FEW_PREKEYS } from "../support/client.ts";
import { DRIVERS, freshDatabase } from "../support/databases.ts";

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: "ok" }),
    (e) => (e instanceof ParleyError ? { code: e.code, field: e.field } : { code: String(e) }),
  );

const OTP_MODE = {
  PARLEY_REGISTRATION_MODE: "otp",
  PARLEY_OTP_PROVIDER: "console",
  PARLEY_LIMITS_OTP_PER_HOUR: "1000",
};

describe("OTP mode (console provider)", async () => {
  const f = await accountsFixture(OTP_MODE);
  afterAll(() => f.cleanup());
  const lastCode = () => {
    const line = f.server.log
      .entries()
      .filter((e) => String(e.msg).startsWith("one-time code for"))
      .at(-1);
    return String(line?.msg).match(/: (\d{6}) /)?.[1] ?? "";
  };
  const requestCode = async (to: { phone: string } | { email: string }) => {
    const r = await f.http("POST", "/api/v1/otp", { body: to });
    expect(r.status).toBe(201);
    return { challengeId: String(r.json!.challengeId), code: lastCode() };
  };
  /** The body the sdk would POST to /accounts, kept instead of sent, to send it raw. */
  const registrationBody = async (input: {
    username: string;
    proof: RegisterRequest["proof"];
  }): Promise<RegisterRequest> => {
    let body: RegisterRequest | undefined;
    const keep = new ApiClient(f.url, async (_url, init) => {
      body = JSON.parse(String(init?.body));
      return { ok: false, status: 599, json: async () => ({}) };
    });
    await register(f.ctx, keep, { ...input, platform: "cli", prekeyCounts: FEW_PREKEYS }).catch(
      () => undefined,
    );
    return body!;
  };
  const attemptsCounted = (challengeId: string) => {
    const db = new Database(join(f.server.dataDir, "parley.db"), { readonly: true });
    try {
      return (
        db.query("SELECT attempts FROM otp_challenges WHERE id = ?").get(challengeId) as {
          attempts: number;
        }
      ).attempts;
    } finally {
      db.close();
    }
  };
  const tally = (answers: { status: number; json?: Record<string, unknown> }[]) => {
    const counts: Record<string, number> = {};
    for (const a of answers) {
      const key = a.status === 201 ? "created" : String(a.json?.code);
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return counts;
  };

  test("40 parallel wrong guesses: 5 are counted and compared, the rest refused; the right code is refused after", async () => {
    const phone = "+15550100001";
    const { challengeId, code } = await requestCode({ phone });
    const wrong = code === "000000" ? "111111" : "000000";
    const body = await registrationBody({
      username: "guesser",
      proof: { kind: "otp", challengeId, code: wrong, phone },
    });
    const answers = await Promise.all(
      Array.from({ length: 40 }, () => f.http("POST", "/api/v1/accounts", { body })),
    );
    expect(tally(answers)).toEqual({ otp_invalid: 4, otp_attempts_exceeded: 36 });
    // A guess is compared only once counted, and never more than 5 are counted.
    expect(attemptsCounted(challengeId)).toBe(5);
    const right = await f.http("POST", "/api/v1/accounts", {
      body: { ...body, proof: { kind: "otp", challengeId, code, phone } },
    });
    expect(right.json?.code).toBe("otp_attempts_exceeded");
  });

  test("a code spent by a parallel registration is otp_invalid, never invite_invalid", async () => {
    const phone = "+15550100002";
    const proof = { kind: "otp" as const, ...(await requestCode({ phone })), phone };
    const body = await registrationBody({ username: "racer", proof });
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => f.http("POST", "/api/v1/accounts", { body })),
    );
    expect(tally(answers)).toEqual({ created: 1, otp_invalid: 3 });
  });

  test("an email address is one account whatever its case: stored, found and keyed lowercased", async () => {
    const typed = "Alice.Smith@Example.ORG";
    const api = apiClient(f.url);
    const { state } = await register(f.ctx, api, {
      username: "alice_smith",
      proof: { kind: "otp", ...(await requestCode({ email: typed })), email: typed },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    expect(await api.request("GET", "/api/v1/account")).toMatchObject({
      email: "alice.smith@example.org",
    });
    // The address in another case is that account's: no second account…
    const lower = "alice.smith@example.org";
    expect(
      await errorOf(
        register(f.ctx, apiClient(f.url), {
          username: "alice_again",
          proof: { kind: "otp", ...(await requestCode({ email: lower })), email: lower },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toEqual({ code: "invalid_request", field: "body.userId" });
    // …and with that account's id, the code resets its identity.
    const upper = "ALICE.SMITH@EXAMPLE.ORG";
    const { state: reset } = await register(f.ctx, apiClient(f.url), {
      userId: state.userId,
      proof: { kind: "otp", ...(await requestCode({ email: upper })), email: upper },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    expect(reset.userId).toBe(state.userId);
  });

  test("an address the email sender would refuse is refused by the API (400, not 503)", async () => {
    for (const email of ['a"b@example.org', "a(b)@example.org", "a\\b@example.org"]) {
      const r = await f.http("POST", "/api/v1/otp", { body: { email } });
      expect({ email, status: r.status, code: r.json?.code }).toEqual({
        email,
        status: 400,
        code: "invalid_request",
      });
    }
  });
});

describe("codes outside OTP mode", async () => {
  const open = await accountsFixture({ ...OTP_MODE, PARLEY_REGISTRATION_MODE: "open" });
  const invite = await accountsFixture({ ...OTP_MODE, PARLEY_REGISTRATION_MODE: "invite" });
  afterAll(async () => {
    await open.cleanup();
    await invite.cleanup();
  });

  test("POST /otp is registration_closed in open and invite mode, and nothing is sent", async () => {
    for (const f of [open, invite]) {
      for (const body of [{ phone: "+15550100009" }, { email: "bob@example.org" }]) {
        const r = await f.http("POST", "/api/v1/otp", { body });
        expect({ status: r.status, code: r.json?.code }).toEqual({
          status: 403,
          code: "registration_closed",
        });
      }
      expect(f.server.log.text()).not.toContain("one-time code for");
    }
  });
});

describe("codes the server cannot send", async () => {
  // A Twilio account whose API answers nothing (nothing listens on port 9 here).
  const f = await accountsFixture({
    PARLEY_REGISTRATION_MODE: "otp",
    PARLEY_OTP_PROVIDER: "twilio",
    PARLEY_TWILIO_ACCOUNT_SID: "AC00000000000000000000000000000000",
    PARLEY_TWILIO_AUTH_TOKEN: "not-a-real-token",
    PARLEY_TWILIO_FROM: "+15550100000",
    PARLEY_TWILIO_API_URL: "http://127.0.0.1:9",
  });
  afterAll(() => f.cleanup());

  test("a channel the provider lacks, or a failed send, is 503 otp_unavailable", async () => {
    for (const body of [{ email: "carol@example.org" }, { phone: "+15550100011" }]) {
      const r = await f.http("POST", "/api/v1/otp", { body });
      expect({ status: r.status, code: r.json?.code }).toEqual({
        status: 503,
        code: "otp_unavailable",
      });
    }
    expect(f.server.log.text()).not.toContain("not-a-real-token");
    expect(f.server.log.text()).not.toContain("15550100011");
  });
});

describe.each(DRIVERS)("one-time code attempts, in one process (%s)", (driver) => {
  test("39 wrong guesses and the right code at once: 5 are compared, so the right one, last, is refused", async () => {
    const t = await freshDatabase(driver);
    try {
      const sent: string[] = [];
      const otp = await otpService({
        mode: "otp",
        store: otpStore(t.database),
        sender: { channels: ["sms"], send: async (m) => void sent.push(m.code) },
        secret: async () => new Uint8Array(32).fill(7),
        audit: auditRepository(t.database),
        now: () => 1_000,
        log: { warn() {} },
      });
      const phone = "+15550100003";
      const { challengeId } = await otp.request({ phone });
      const code = sent[0]!;
      const wrong = code === "000000" ? "111111" : "000000";
      const guesses = [...Array.from({ length: 39 }, () => wrong), code];
      // Started together: every read of the challenge would come before any failure is written.
      const answers = await Promise.all(
        guesses.map((g) => errorOf(otp.verify(challengeId, g, { phone, email: null }))),
      );
      expect(answers.at(-1)?.code).toBe("otp_attempts_exceeded");
      const counts: Record<string, number> = {};
      for (const a of answers) counts[a.code] = (counts[a.code] ?? 0) + 1;
      expect(counts).toEqual({ otp_invalid: 4, otp_attempts_exceeded: 36 });
    } finally {
      await t.cleanup();
    }
  });
});

describe("writeError", () => {
  test("a spent proof is named after its kind", () => {
    expect(writeError("proof_used", "otp").code).toBe("otp_invalid");
    expect(writeError("proof_used", "invite").code).toBe("invite_invalid");
    expect(writeError("not_found").code).toBe("user_not_found");
    expect(writeError("second_factor_invalid", "otp").code).toBe("second_factor_invalid");
  });
});

describe.each(DRIVERS)("TOTP enrolment (%s)", (driver) => {
  const setup = async () => {
    const t = await freshDatabase(driver);
    const userId = "0190f0e0-0000-7000-8000-000000000001" as UserId;
    await t.database.write((tx) =>
      tx.insert(users).values({ id: userId, username: "tess", createdAt: 0, updatedAt: 0 }),
    );
    return { t, userId, store: totpStore(t.database) };
  };

  test("a restart never replaces a confirmed enrolment (the registration lock stays on)", async () => {
    const { t, userId, store } = await setup();
    try {
      expect(await store.begin(userId, "FIRSTSECRET", 1)).toBe(true);
      expect(await store.begin(userId, "SECONDSECRET", 2)).toBe(true);
      await store.confirm(userId, ["hash"], 3);
      expect(await store.begin(userId, "THIRDSECRET", 4)).toBe(false);
      expect(await store.get(userId)).toEqual({ secret: "SECONDSECRET", confirmedAt: 3 });
    } finally {
      await t.cleanup();
    }
  });

  test("a restart that read the row before a confirm landed is totp_already_enrolled", async () => {
    const { t, userId, store } = await setup();
    try {
      // The confirm lands between the restart's read and its write: the read is stale.
      const stale: TotpStore = { ...store, get: async () => ({ secret: "X", confirmedAt: null }) };
      await store.begin(userId, "FIRSTSECRET", 1);
      await store.confirm(userId, ["hash"], 2);
      const totp = totpService({
        store: stale,
        audit: auditRepository(t.database),
        limiter: {
          hit: async () => ({ allowed: true, remaining: 1, retryAfterMs: 0 }),
          reset: async () => {},
          close: async () => {},
        },
        now: () => 3,
      });
      expect((await errorOf(totp.begin(userId, "tess"))).code).toBe("totp_already_enrolled");
      expect((await store.get(userId))?.confirmedAt).toBe(2);
    } finally {
      await t.cleanup();
    }
  });
});

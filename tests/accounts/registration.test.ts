// Registration modes, the first admin, claiming admin-created accounts, identity resets and
// the TOTP registration lock — through a real server and the real sdk.
import { afterAll, describe, expect, test } from "bun:test";
import { Secret, TOTP } from "otpauth";
import type { RegisterRequest } from "../../protocol/api/accounts.ts";
import { toBase64Url } from "../../protocol/api/base64.ts";
import { ParleyError } from "../../protocol/errors.ts";
import type { InMemorySessionStores } from "../../protocol/session/stores.ts";
import { register } from "../../sdk/account.ts";
import { ApiClient } from "../../sdk/api-client.ts";
import {
  acknowledgeIdentityChange,
  fetchVerifiedBundles,
  memoryDeviceListMemory,
} from "../../sdk/directory.ts";
import { accountsFixture } from "../support/accounts.ts";
import { apiClient, FEW_PREKEYS } from "../support/client.ts";
import { openSocket } from "../support/ws.ts";

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e) => (e instanceof ParleyError ? e.code : String(e)),
  );
const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => ({ code: "ok" }),
    (e) => (e instanceof ParleyError ? { code: e.code, field: e.field } : { code: String(e) }),
  );

/** An sdk client whose POST /accounts body is changed by `edit` on its way to the server. */
const tamperingClient = (url: string, edit: (body: RegisterRequest) => RegisterRequest) =>
  new ApiClient(url, (to, init) =>
    fetch(
      to,
      to.endsWith("/api/v1/accounts") && init?.body
        ? { ...init, body: JSON.stringify(edit(JSON.parse(init.body))) }
        : init,
    ),
  );

describe("invite mode", async () => {
  const f = await accountsFixture({ PARLEY_REGISTRATION_MODE: "invite" });
  afterAll(() => f.cleanup());
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`http://admin/admin${path}`, {
      unix: f.server.server.adminSocket,
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    }).then(async (r) => ({
      status: r.status,
      json: r.status === 204 ? undefined : ((await r.json()) as Record<string, unknown>),
    }));

  test("a first start prints a one-time setup link that makes the first admin", async () => {
    const code = f.server.server.setupCode!;
    expect(code).toBeTruthy();
    const printed = f.server.log.entries().filter((e) => String(e.link ?? "").includes(code));
    expect(printed).toHaveLength(1);
    const api = apiClient(f.url);
    const { state } = await register(f.ctx, api, {
      username: "root",
      proof: { kind: "invite", code },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    const me = await api.request<{ isAdmin: boolean; userId: string }>("GET", "/api/v1/account");
    expect(me).toMatchObject({ isAdmin: true, userId: state.userId });
    // Single use.
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "root2",
          proof: { kind: "invite", code },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("invite_invalid");
  });

  test("open registration is refused; an admin's invite works up to its uses", async () => {
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "nope",
          proof: { kind: "open" },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("registration_closed");
    const invite = await admin("POST", "/invites", { maxUses: 2 });
    expect(invite.status).toBe(201);
    const code = String(invite.json!.code);
    for (const name of ["ann", "ben"]) {
      expect(
        await codeOf(
          register(f.ctx, apiClient(f.url), {
            username: name,
            proof: { kind: "invite", code },
            platform: "cli",
            prekeyCounts: FEW_PREKEYS,
          }),
        ),
      ).toBe("ok");
    }
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "cat",
          proof: { kind: "invite", code },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("invite_invalid");
  });

  test("a revoked invite no longer works", async () => {
    const invite = await admin("POST", "/invites", {});
    expect((await admin("DELETE", `/invites/${invite.json!.id}`)).status).toBe(204);
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "dan",
          proof: { kind: "invite", code: String(invite.json!.code) },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("invite_invalid");
    const listed = await admin("GET", "/invites");
    expect(
      (listed.json!.invites as { id: string; revokedAt: number | null }[]).find(
        (i) => i.id === invite.json!.id,
      )?.revokedAt,
    ).toBeNumber();
  });

  test("an admin-created user claims the account with its claim code, under its username", async () => {
    const created = await admin("POST", "/users", { username: "eve", admin: true });
    expect(created.status).toBe(201);
    const api = apiClient(f.url);
    const { state } = await register(f.ctx, api, {
      userId: String(created.json!.userId),
      proof: { kind: "invite", code: String(created.json!.claimCode) },
      platform: "web",
      prekeyCounts: FEW_PREKEYS,
    });
    expect(String(state.userId)).toBe(String(created.json!.userId));
    expect(await api.request("GET", "/api/v1/account")).toMatchObject({
      username: "eve",
      isAdmin: true,
    });
    expect((await admin("POST", "/users", { username: "eve" })).json!.code).toBe("username_taken");
  });
});

describe("OTP mode (console provider)", async () => {
  const f = await accountsFixture({
    PARLEY_REGISTRATION_MODE: "otp",
    PARLEY_OTP_PROVIDER: "console",
    PARLEY_LIMITS_OTP_PER_HOUR: "100",
  });
  afterAll(() => f.cleanup());
  const lastCode = () => {
    const line = f.server.log
      .entries()
      .filter((e) => String(e.msg).startsWith("one-time code for"))
      .at(-1);
    return String(line?.msg).match(/: (\d{6}) /)?.[1] ?? "";
  };
  const requestCode = async (phone: string) => {
    const r = await f.http("POST", "/api/v1/otp", { body: { phone } });
    expect(r.status).toBe(201);
    return { challengeId: String(r.json!.challengeId), code: lastCode() };
  };

  test("a phone number verified by a code registers an account; a wrong code is refused, 5 tries at most", async () => {
    const { challengeId, code } = await requestCode("+15550001111");
    expect(code).toMatch(/^\d{6}$/);
    // The code and the number are never stored or logged except by the console provider.
    expect(f.server.log.text().split(code).length - 1).toBe(1);
    const wrong = code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 4; i++) {
      expect(
        await codeOf(
          register(f.ctx, apiClient(f.url), {
            username: "pat",
            proof: { kind: "otp", challengeId, code: wrong, phone: "+15550001111" },
            platform: "cli",
            prekeyCounts: FEW_PREKEYS,
          }),
        ),
      ).toBe("otp_invalid");
    }
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "pat",
          proof: { kind: "otp", challengeId, code: wrong, phone: "+15550001111" },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("otp_attempts_exceeded");
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "pat",
          proof: { kind: "otp", challengeId, code, phone: "+15550001111" },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("otp_attempts_exceeded");
    const again = await requestCode("+15550001111");
    const api = apiClient(f.url);
    await register(f.ctx, api, {
      username: "pat",
      proof: { kind: "otp", ...again, phone: "+15550001111" },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    expect(await api.request("GET", "/api/v1/account")).toMatchObject({
      username: "pat",
      phone: "+15550001111",
    });
  });

  test("a code is bound to the number it was sent to", async () => {
    const { challengeId, code } = await requestCode("+15550002222");
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          username: "mallory",
          proof: { kind: "otp", challengeId, code, phone: "+15550003333" },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("otp_invalid");
  });

  test("re-registering a known number resets the identity, after TOTP; contacts see the change", async () => {
    const phone = "+15550004444";
    const first = await requestCode(phone);
    const api = apiClient(f.url);
    const { state } = await register(f.ctx, api, {
      username: "quinn",
      proof: { kind: "otp", ...first, phone },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    // A contact fetches Quinn's keys: trust on first use.
    const second = await requestCode("+15550005555");
    const contactApi = apiClient(f.url);
    const { state: contact } = await register(f.ctx, contactApi, {
      username: "rita",
      proof: { kind: "otp", ...second, phone: "+15550005555" },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    const trust = {
      identities: contact.stores as InMemorySessionStores,
      deviceLists: memoryDeviceListMemory(),
    };
    expect(
      (await fetchVerifiedBundles(f.ctx, contactApi, state.userId, trust)).devices,
    ).toHaveLength(1);
    await contactApi.request("PUT", `/api/v1/contacts/${state.userId}`, { body: {} });
    const contactSocket = await openSocket(f.url, contactApi);
    const oldDeviceSocket = await openSocket(f.url, api);
    // Quinn enrols TOTP.
    const { secret } = await api.request<{ secret: string }>("POST", "/api/v1/account/totp");
    const totp = new TOTP({ secret: Secret.fromBase32(secret) });
    const { recoveryCodes } = await api.request<{ recoveryCodes: string[] }>(
      "POST",
      "/api/v1/account/totp/confirm",
      { body: { code: totp.generate() } },
    );
    expect(recoveryCodes).toHaveLength(10);
    // Quinn loses the phone and registers again with the number: TOTP is required.
    const third = await requestCode(phone);
    const reset = {
      userId: state.userId,
      proof: { kind: "otp" as const, ...third, phone },
      platform: "cli" as const,
      prekeyCounts: FEW_PREKEYS,
    };
    expect(await codeOf(register(f.ctx, apiClient(f.url), reset))).toBe("second_factor_required");
    const fourth = await requestCode(phone);
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          ...reset,
          proof: { kind: "otp", ...fourth, phone },
          secondFactor: { recoveryCode: "wrong-code-123" },
        }),
      ),
    ).toBe("second_factor_invalid");
    const fifth = await requestCode(phone);
    const newApi = apiClient(f.url);
    const { state: newState } = await register(f.ctx, newApi, {
      ...reset,
      proof: { kind: "otp", ...fifth, phone },
      secondFactor: { recoveryCode: recoveryCodes[0]! },
    });
    expect(newState.userId).toBe(state.userId);
    // The contact's connected device is told at once.
    expect(await contactSocket.next("device_changed")).toMatchObject({
      userId: state.userId,
      change: "reset",
      deviceListVersion: 1,
    });
    contactSocket.ws.close();
    // The old device's socket, still open, is told it was removed and closed.
    expect(await oldDeviceSocket.next("revoked")).toEqual({ type: "revoked" });
    expect((await oldDeviceSocket.closed()).code).toBe(4003);
    // The old device is gone; the account key changed, so the contact sees a new safety number.
    expect(await codeOf(api.request("GET", "/api/v1/account"))).toMatch(
      /invalid_token|device_revoked/,
    );
    expect(await codeOf(fetchVerifiedBundles(f.ctx, contactApi, state.userId, trust))).toBe(
      "untrusted_identity",
    );
    await acknowledgeIdentityChange(trust, state.userId, newState.accountKeyPair.publicKey);
    const after = await fetchVerifiedBundles(f.ctx, contactApi, state.userId, trust);
    expect(after.devices.map((d) => d.deviceId)).toEqual([newState.deviceId]);
    // A recovery code works once.
    const sixth = await requestCode(phone);
    expect(
      await codeOf(
        register(f.ctx, apiClient(f.url), {
          ...reset,
          proof: { kind: "otp", ...sixth, phone },
          secondFactor: { recoveryCode: recoveryCodes[0]! },
        }),
      ),
    ).toBe("second_factor_invalid");
  });
  test("a reset refused on its signatures keeps its recovery code; second-factor guesses are limited per account", async () => {
    const phone = "+15550007777";
    const api = apiClient(f.url);
    const { state } = await register(f.ctx, api, {
      username: "sam",
      proof: { kind: "otp", ...(await requestCode(phone)), phone },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
    });
    const { secret } = await api.request<{ secret: string }>("POST", "/api/v1/account/totp");
    const { recoveryCodes } = await api.request<{ recoveryCodes: string[] }>(
      "POST",
      "/api/v1/account/totp/confirm",
      { body: { code: new TOTP({ secret: Secret.fromBase32(secret) }).generate() } },
    );
    const reset = (
      proof: { challengeId: string; code: string },
      recoveryCode: string,
      client = apiClient(f.url),
    ) =>
      register(f.ctx, client, {
        userId: state.userId,
        proof: { kind: "otp", ...proof, phone },
        secondFactor: { recoveryCode },
        platform: "cli",
        prekeyCounts: FEW_PREKEYS,
      });
    // A request whose certificate is not signed by the account key it names fails on its
    // signatures; its (valid) recovery code is neither checked nor spent…
    const stranger = await f.ctx.prims.ed25519.generateKeyPair(f.ctx.rng);
    const forged = tamperingClient(f.url, (body) => ({
      ...body,
      accountKey: toBase64Url(stranger.publicKey),
    }));
    const first = await requestCode(phone);
    expect(await codeOf(reset(first, recoveryCodes[0]!, forged))).toBe("invalid_signature");
    // …so it still resets the account (a first guess for this account).
    expect(await codeOf(reset(first, recoveryCodes[0]!))).toBe("ok");
    // Four wrong guesses more reach the limit of 5 an hour: even a right code is refused.
    const second = await requestCode(phone);
    for (const wrong of ["wrong-code-1", "wrong-code-2", "wrong-code-3", "wrong-code-4"])
      expect(await codeOf(reset(second, wrong))).toBe("second_factor_invalid");
    const limited = await reset(second, recoveryCodes[1]!).catch((e: ParleyError) => e);
    expect(limited).toBeInstanceOf(ParleyError);
    expect((limited as ParleyError).code).toBe("rate_limited");
    expect((limited as ParleyError).retryAfterMs).toBeGreaterThan(0);
  });
});

describe("time limits", async () => {
  let clock = Date.now();
  const HOUR = 60 * 60 * 1000;
  const invite = await accountsFixture(
    { PARLEY_REGISTRATION_MODE: "invite" },
    { now: () => clock },
  );
  const open = await accountsFixture({}, { now: () => clock });
  afterAll(async () => {
    await invite.cleanup();
    await open.cleanup();
  });

  test("the setup link expires after 24 hours", async () => {
    const code = invite.server.server.setupCode!;
    clock += 24 * HOUR + 1;
    expect(
      await codeOf(
        register(invite.ctx, apiClient(invite.url), {
          username: "late_root",
          proof: { kind: "invite", code },
          platform: "cli",
          prekeyCounts: FEW_PREKEYS,
        }),
      ),
    ).toBe("invite_invalid");
  });

  test("a deleted account's username is reserved for 30 days, then free", async () => {
    const zed = await open.user("zed");
    await zed.api.request("DELETE", "/api/v1/account");
    expect(await codeOf(open.user("zed"))).toBe("username_taken");
    clock += 29 * 24 * HOUR;
    expect(await codeOf(open.user("zed"))).toBe("username_taken");
    clock += 2 * 24 * HOUR;
    const newZed = await open.user("zed");
    expect(newZed.state.userId).not.toBe(zed.state.userId);
  });
});

describe("device secrets", async () => {
  const f = await accountsFixture();
  afterAll(() => f.cleanup());

  test("a device secret is exactly 32 bytes: a shorter one is refused at registration and at sign-in", async () => {
    const short = ["", toBase64Url(new Uint8Array(16)), toBase64Url(new Uint8Array(31))];
    for (const [i, secret] of short.entries()) {
      const client = tamperingClient(f.url, (body) => ({
        ...body,
        device: { ...body.device, secret },
      }));
      expect(
        await errorOf(
          register(f.ctx, client, {
            username: `weak_secret_${i}`,
            proof: { kind: "open" },
            platform: "cli",
            prekeyCounts: FEW_PREKEYS,
          }),
        ),
      ).toEqual({ code: "invalid_request", field: "body.device.secret" });
    }
    const user = await f.user();
    for (const secret of short) {
      const r = await f.http("POST", "/api/v1/auth/token", {
        body: { grant: "device", deviceId: user.state.deviceId, secret },
      });
      expect({ status: r.status, code: r.json?.code, details: r.json?.details }).toEqual({
        status: 400,
        code: "invalid_request",
        details: { field: "body.secret" },
      });
    }
  });
});

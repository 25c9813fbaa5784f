// The sdk's account features through the real server, as a client would use them: encrypted
// contact nicknames shared by the account's devices, blocks, two-factor enrolment, device
// names given at registration and linking, last-seen visibility and account deletion. No
// step calls the HTTP API by hand except to look at what the server stores or to play a
// misbehaving server.
import { afterAll, describe, expect, test } from "bun:test";
import { Secret, TOTP } from "otpauth";
import { fromBase64Url } from "../../protocol/api/base64.ts";
import { utf8 } from "../../protocol/crypto/bytes.ts";
import { ParleyError } from "../../protocol/errors.ts";
import { CONTACT_NICKNAME_SEALED_BYTES } from "../../protocol/profile/contact-nickname.ts";
import { deleteAccount, register, setLastSeenVisibility } from "../../sdk/account.ts";
import {
  blockUser,
  listContacts,
  removeContact,
  setNickname,
  unblockUser,
} from "../../sdk/contacts.ts";
import { listDevices } from "../../sdk/devices.ts";
import { findUser, type UserSummary } from "../../sdk/directory.ts";
import { approveLinking, finishLinking, startLinking } from "../../sdk/linking.ts";
import { confirmTotpEnrolment, disableTotp, startTotpEnrolment } from "../../sdk/two-factor.ts";
import { accountsFixture, type TestUser } from "../support/accounts.ts";
import { apiClient, FEW_PREKEYS } from "../support/client.ts";
import { filesUnder, findLeaks } from "../support/leaks.ts";
import { openSocket } from "../support/ws.ts";

const f = await accountsFixture();
afterAll(() => f.cleanup());

/** The catalogue code a call fails with, or "none". */
async function codeOf(run: () => Promise<unknown>): Promise<string> {
  try {
    await run();
    return "none";
  } catch (err) {
    return err instanceof ParleyError ? err.code : String(err);
  }
}

/** A user's own view of another user, as the directory shows it. */
const viewOf = (viewer: TestUser, user: TestUser) =>
  viewer.api.request<UserSummary>("GET", `/api/v1/users/${user.state.userId}`);

describe("contacts", () => {
  test("a nickname set on one device reads on the account's other device, never in clear", async () => {
    const alice = await f.user("nick_alice");
    const laptop = await f.linkDevice(alice);
    const bob = await f.user("nick_bob");
    const carol = await f.user("nick_carol");
    expect(await listContacts(f.ctx, alice.api, alice.state)).toEqual([]);

    await setNickname(f.ctx, alice.api, alice.state, bob.state.userId, "Bobby from the gym");
    await setNickname(f.ctx, alice.api, alice.state, carol.state.userId, "Carol 🐇");
    const onLaptop = await listContacts(f.ctx, laptop.api, laptop.state);
    expect(Object.fromEntries(onLaptop.map((c) => [c.userId, [c.nickname, c.blocked]]))).toEqual({
      [bob.state.userId]: ["Bobby from the gym", false],
      [carol.state.userId]: ["Carol 🐇", false],
    });
    expect(onLaptop[0]!.createdAt).toBeGreaterThan(0);

    // Renamed on the laptop, read on the phone; a nickname cleared stays a contact.
    await setNickname(f.ctx, laptop.api, laptop.state, bob.state.userId, "Bob");
    await setNickname(f.ctx, laptop.api, laptop.state, carol.state.userId, undefined);
    const onPhone = await listContacts(f.ctx, alice.api, alice.state);
    expect(Object.fromEntries(onPhone.map((c) => [c.userId, c.nickname]))).toEqual({
      [bob.state.userId]: "Bob",
      [carol.state.userId]: undefined,
    });
    expect(onPhone.find((c) => c.userId === carol.state.userId)).not.toHaveProperty("nickname");

    // What the server holds: one sealed length, whatever the nickname says.
    const raw = await alice.api.request<{
      contacts: { userId: string; nicknameCiphertext?: string }[];
    }>("GET", "/api/v1/contacts");
    const stored = raw.contacts.find((c) => c.userId === bob.state.userId)!.nicknameCiphertext!;
    const sealed = fromBase64Url(stored, "nicknameCiphertext");
    expect(sealed.length).toBe(CONTACT_NICKNAME_SEALED_BYTES);

    // The search finds what is stored (the ciphertext), so finding no nickname means something.
    const files = filesUnder(f.server.dataDir);
    expect(findLeaks({ ciphertext: sealed }, files)).not.toEqual([]);
    const clear = {
      "first nickname": utf8("Bobby from the gym"),
      "second nickname": utf8("Carol 🐇"),
      "account secret key": alice.state.accountKeyPair.secretKey,
    };
    expect(findLeaks(clear, files)).toEqual([]);
  });

  test("a nickname that does not open is left out; the list still loads", async () => {
    const dora = await f.user("nick_dora");
    const erin = await f.user("nick_erin");
    const fred = await f.user("nick_fred");
    await setNickname(f.ctx, dora.api, dora.state, erin.state.userId, "Erin");
    const { contacts } = await dora.api.request<{
      contacts: { userId: string; nicknameCiphertext: string }[];
    }>("GET", "/api/v1/contacts");
    // A server moving Erin's nickname onto Fred, and storing bytes that are no ciphertext.
    await dora.api.request("PUT", `/api/v1/contacts/${fred.state.userId}`, {
      body: { nicknameCiphertext: contacts[0]!.nicknameCiphertext },
    });
    const listed = await listContacts(f.ctx, dora.api, dora.state);
    expect(Object.fromEntries(listed.map((c) => [c.userId, c.nickname]))).toEqual({
      [erin.state.userId]: "Erin",
      [fred.state.userId]: undefined,
    });
    await dora.api.request("PUT", `/api/v1/contacts/${erin.state.userId}`, {
      body: { nicknameCiphertext: "bm90IGEgY2lwaGVydGV4dA" },
    });
    expect((await listContacts(f.ctx, dora.api, dora.state)).map((c) => c.nickname)).toEqual([
      undefined,
      undefined,
    ]);
    // Another account key (as after an identity reset) opens none of them either.
    await setNickname(f.ctx, dora.api, dora.state, erin.state.userId, "Erin");
    const blind = await listContacts(f.ctx, dora.api, {
      ...dora.state,
      accountKeyPair: erin.state.accountKeyPair,
    });
    expect(blind.map((c) => c.nickname)).toEqual([undefined, undefined]);
  });

  test("block, unblock and remove round trip; a nickname survives a block", async () => {
    const gina = await f.user("block_gina");
    const hank = await f.user("block_hank");
    const blocked = () => listContacts(f.ctx, gina.api, gina.state);

    // Blocking someone who is not a contact yet adds them, blocked.
    await blockUser(gina.api, hank.state.userId);
    expect((await blocked()).map((c) => [c.userId, c.blocked])).toEqual([
      [hank.state.userId, true],
    ]);
    await setNickname(f.ctx, gina.api, gina.state, hank.state.userId, "Hank (spam)");
    expect((await blocked())[0]).toMatchObject({ nickname: "Hank (spam)", blocked: true });
    await unblockUser(gina.api, hank.state.userId);
    expect((await blocked())[0]).toMatchObject({ nickname: "Hank (spam)", blocked: false });
    expect(f.audit("contact.block").filter((r) => r.actor === gina.state.userId)).toEqual([
      {
        actor: gina.state.userId,
        action: "contact.block",
        target: hank.state.userId,
        details: null,
      },
    ]);
    expect(f.audit("contact.unblock").filter((r) => r.actor === gina.state.userId)).toHaveLength(1);

    await removeContact(gina.api, hank.state.userId);
    expect(await blocked()).toEqual([]);
    expect(await codeOf(() => removeContact(gina.api, hank.state.userId))).toBe("user_not_found");
  });

  test("bad nicknames and ids throw before anything is sent; self and unknown users are refused", async () => {
    const ivan = await f.user("bad_ivan");
    const judy = await f.user("bad_judy");
    const err = await setNickname(f.ctx, ivan.api, ivan.state, judy.state.userId, "x".repeat(65))
      .then(() => undefined)
      .catch((e) => e);
    expect([err?.code, err?.field]).toEqual(["limit_exceeded", "nickname"]);
    expect(
      await codeOf(() => setNickname(f.ctx, ivan.api, ivan.state, judy.state.userId, " ")),
    ).toBe("invalid_request");
    expect(await codeOf(() => blockUser(ivan.api, "judy"))).toBe("invalid_request");
    expect(await listContacts(f.ctx, ivan.api, ivan.state)).toEqual([]);

    expect(await codeOf(() => blockUser(ivan.api, ivan.state.userId))).toBe("invalid_request");
    const nobody = "0190a0b0-0000-7000-8000-000000000000";
    expect(await codeOf(() => setNickname(f.ctx, ivan.api, ivan.state, nobody, "Nobody"))).toBe(
      "user_not_found",
    );
  });
});

describe("two-factor", () => {
  test("enrol, confirm (recovery codes once), disable with a code", async () => {
    const kate = await f.user("totp_kate");
    const { secret, uri } = await startTotpEnrolment(kate.api);
    expect(uri).toStartWith("otpauth://totp/");
    expect(uri).toContain(`secret=${secret}`);
    expect(uri).toContain("totp_kate");
    const app = new TOTP({ secret: Secret.fromBase32(secret) });
    // A code for another hour's window is not the app's current one.
    const stale = app.generate({ timestamp: Date.now() - 3_600_000 });

    expect(await codeOf(() => confirmTotpEnrolment(kate.api, stale))).toBe("second_factor_invalid");
    const recoveryCodes = await confirmTotpEnrolment(kate.api, app.generate());
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    expect(f.audit("totp.enable").map((r) => r.target)).toContain(kate.state.userId);

    // Shown once: confirming again, or starting over, gives no codes.
    expect(await codeOf(() => confirmTotpEnrolment(kate.api, app.generate()))).toBe(
      "totp_already_enrolled",
    );
    expect(await codeOf(() => startTotpEnrolment(kate.api))).toBe("totp_already_enrolled");
    // The server keeps only their hashes.
    const leaks = findLeaks(
      Object.fromEntries(recoveryCodes.map((c, i) => [`recovery code ${i}`, utf8(c)])),
      filesUnder(f.server.dataDir),
    );
    expect(leaks).toEqual([]);

    expect(await codeOf(() => disableTotp(kate.api, stale))).toBe("second_factor_invalid");
    await disableTotp(kate.api, app.generate());
    expect(f.audit("totp.disable").map((r) => r.target)).toContain(kate.state.userId);
    expect(await codeOf(() => disableTotp(kate.api, app.generate()))).toBe("totp_not_enrolled");
    // Off again: a new enrolment starts with a new secret.
    expect((await startTotpEnrolment(kate.api)).secret).not.toBe(secret);
  });
});

describe("account", () => {
  test("names given at registration and linking read on the other device", async () => {
    const phoneApi = apiClient(f.url);
    const { state: phone } = await register(f.ctx, phoneApi, {
      username: "named_lena",
      proof: { kind: "open" },
      platform: "cli",
      prekeyCounts: FEW_PREKEYS,
      deviceName: "Lena's phone",
    });

    const laptopApi = apiClient(f.url);
    const pending = await startLinking(f.ctx, laptopApi);
    // A bad name is refused before the link is used, so the same link still works after.
    const bad = await finishLinking(f.ctx, laptopApi, pending, {
      platform: "web",
      deviceName: "",
    }).catch((e) => e);
    expect([bad?.code, bad?.field]).toEqual(["invalid_request", "name"]);
    const done = finishLinking(f.ctx, laptopApi, pending, {
      platform: "web",
      prekeyCounts: FEW_PREKEYS,
      deviceName: "Lena's laptop",
    });
    await approveLinking(f.ctx, phoneApi, phone, pending.payload);
    const { state: laptop } = await done;

    const seenByPhone = await listDevices(f.ctx, phoneApi, phone);
    const seenByLaptop = await listDevices(f.ctx, laptopApi, laptop);
    const names = {
      [phone.deviceId]: "Lena's phone",
      [laptop.deviceId]: "Lena's laptop",
    };
    for (const seen of [seenByPhone, seenByLaptop]) {
      expect(Object.fromEntries(seen.map((d) => [d.deviceId, d.name]))).toEqual(names);
    }
    expect(findLeaks({ name: utf8("Lena's laptop") }, filesUnder(f.server.dataDir))).toEqual([]);

    // Register without a name: the device has none.
    const mia = await f.user("named_mia");
    expect((await listDevices(f.ctx, mia.api, mia.state))[0]).not.toHaveProperty("name");
  });

  test("last-seen visibility: everyone, contacts, nobody", async () => {
    const nora = await f.user("seen_nora");
    const otto = await f.user("seen_otto");
    const pia = await f.user("seen_pia");
    // A connected device marks Nora as seen (the server stamps it just after `ready`, and
    // again when the device disconnects).
    const socket = await openSocket(f.url, nora.api);
    let seenAt: number | undefined;
    for (let i = 0; i < 100 && seenAt === undefined; i++) {
      seenAt = (await nora.api.request<{ lastSeenAt?: number }>("GET", "/api/v1/account"))
        .lastSeenAt;
      if (seenAt === undefined) await Bun.sleep(20);
    }
    expect(seenAt).toBeGreaterThan(0);
    const lastSeen = async (viewer: TestUser) => (await viewOf(viewer, nora)).lastSeenAt;

    try {
      await setLastSeenVisibility(nora.api, "everyone");
      expect(await lastSeen(otto)).toBeGreaterThanOrEqual(seenAt!);

      await setLastSeenVisibility(nora.api, "nobody");
      const hidden = await viewOf(otto, nora);
      expect(hidden).not.toHaveProperty("lastSeenAt");
      expect(hidden.userId).toBe(nora.state.userId);
      expect(await findUser(otto.api, "seen_nora")).not.toHaveProperty("lastSeenAt");
      // The owner always sees their own.
      expect(await lastSeen(nora)).toBeGreaterThanOrEqual(seenAt!);

      // "contacts": the people Nora added, not the people who added her.
      await setLastSeenVisibility(nora.api, "contacts");
      await setNickname(f.ctx, nora.api, nora.state, otto.state.userId, "Otto");
      await blockUser(pia.api, nora.state.userId);
      expect(await lastSeen(otto)).toBeGreaterThanOrEqual(seenAt!);
      expect(await lastSeen(pia)).toBe(undefined);
      const me = await nora.api.request<{ lastSeenVisibility: string }>("GET", "/api/v1/account");
      expect(me.lastSeenVisibility).toBe("contacts");
    } finally {
      socket.ws.close();
    }
  });

  test("deleting the account ends every device's token and hides the user", async () => {
    const quinn = await f.user("gone_quinn");
    const tablet = await f.linkDevice(quinn);
    const rita = await f.user("gone_rita");
    await setNickname(f.ctx, rita.api, rita.state, quinn.state.userId, "Quinn");
    expect((await findUser(rita.api, "gone_quinn")).userId).toBe(quinn.state.userId);
    const { secret } = await startTotpEnrolment(quinn.api);
    await confirmTotpEnrolment(
      quinn.api,
      new TOTP({ secret: Secret.fromBase32(secret) }).generate(),
    );
    const socket = await openSocket(f.url, tablet.api);

    await deleteAccount(quinn.api);
    // The tablet's socket closes after the deletion; that leaves no trace on the tombstone,
    // and the second factor goes with the account.
    await socket.closed();
    await Bun.sleep(50);
    expect(
      f.rows("SELECT last_seen_at, username FROM users WHERE id = ?", quinn.state.userId),
    ).toEqual([{ last_seen_at: null, username: null }]);
    expect(f.rows("SELECT * FROM totp WHERE user_id = ?", quinn.state.userId)).toEqual([]);
    expect(f.rows("SELECT * FROM recovery_codes WHERE user_id = ?", quinn.state.userId)).toEqual(
      [],
    );
    expect(await codeOf(() => listDevices(f.ctx, quinn.api, quinn.state))).toBe("invalid_token");
    expect(await codeOf(() => listContacts(f.ctx, tablet.api, tablet.state))).toBe("invalid_token");
    expect(await codeOf(() => findUser(rita.api, "gone_quinn"))).toBe("user_not_found");
    expect(await codeOf(() => viewOf(rita, quinn))).toBe("user_not_found");
    // Gone from other people's contacts too.
    expect(await listContacts(f.ctx, rita.api, rita.state)).toEqual([]);
    expect(f.audit("account.delete")).toContainEqual({
      actor: quinn.state.userId,
      action: "account.delete",
      target: quinn.state.userId,
      details: null,
    });
  });
});

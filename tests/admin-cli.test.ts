// `parley admin` as an operator meets it: a real `parley serve` process, the real CLI in
// another process, talking over the admin socket; what it creates works through the real API.
import { Database } from "bun:sqlite";
import { afterAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { Secret, TOTP } from "otpauth";
import { ParleyError } from "../protocol/errors.ts";
import { register } from "../sdk/account.ts";
import { apiClient, FEW_PREKEYS, realContext } from "./support/client.ts";
import { tempDir } from "./support/databases.ts";
import { spawnServer } from "./support/process.ts";

const MAIN = join(import.meta.dir, "..", "cli", "main.ts");
const dir = tempDir("parley-admin-");
const server = await spawnServer(
  [process.execPath, MAIN, "serve", "--port", "0", "--host", "127.0.0.1"],
  { cwd: dir.path },
);
const ctx = await realContext();
afterAll(async () => {
  server.proc.kill("SIGTERM");
  await server.proc.exited;
  dir.remove();
});

function admin(...args: string[]) {
  const out = Bun.spawnSync([process.execPath, MAIN, "admin", ...args], {
    cwd: dir.path,
    env: { PATH: process.env.PATH ?? "", NO_COLOR: "1" },
  });
  return { code: out.exitCode, stdout: out.stdout.toString(), stderr: out.stderr.toString() };
}
const adminJson = (...args: string[]) => {
  const r = admin(...args, "--json");
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};

const registerWith = (code: string, username: string, userId?: string) =>
  register(ctx, apiClient(server.url), {
    username,
    ...(userId ? { userId } : {}),
    proof: { kind: "invite", code },
    platform: "cli",
    prekeyCounts: FEW_PREKEYS,
  });
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => "accepted",
    (e: unknown) => (e instanceof ParleyError ? e.code : String(e)),
  );

test("the admin socket is the operator's alone (mode 0600)", () => {
  const socket = join(dir.path, "data", "admin.sock");
  expect(statSync(socket).isSocket()).toBe(true);
  expect(statSync(socket).mode & 0o777).toBe(0o600);
});

test("invites create, list and revoke", async () => {
  const invite = adminJson("invites", "create", "--uses", "2", "--note", "family");
  expect(invite.code).toEqual(expect.any(String));
  expect(String(invite.link)).toEndWith(`/register#${invite.code}`);
  await registerWith(String(invite.code), "alice");

  const listed = adminJson("invites", "list") as unknown as Record<string, unknown>[];
  expect(listed.find((i) => i.id === invite.id)).toMatchObject({
    note: "family",
    uses: 1,
    maxUses: 2,
    revokedAt: null,
  });
  // The human listing is a table with the same facts.
  const table = admin("invites", "list");
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(new RegExp(`${invite.id}\\s+family\\s+1\\s+2`));
  // The code is shown once, at creation; listing never shows it again.
  expect(table.stdout).not.toContain(String(invite.code));

  expect(admin("invites", "revoke", String(invite.id))).toMatchObject({
    code: 0,
    stdout: `revoked ${invite.id}\n`,
  });
  expect(await refusal(registerWith(String(invite.code), "bob"))).toBe("invite_invalid");
  expect(admin("invites", "revoke", String(invite.id))).toMatchObject({ code: 1 });
});

test("users create makes an account its owner claims; usernames are checked", async () => {
  const created = adminJson("users", "create", "carol", "--admin");
  expect(created).toMatchObject({ username: "carol", admin: true });
  const { state } = await registerWith(String(created.claimCode), "carol", String(created.userId));
  expect(String(state.userId)).toBe(String(created.userId));

  const invitesBefore = (adminJson("invites", "list") as unknown as unknown[]).length;
  const taken = admin("users", "create", "carol");
  expect(taken.code).toBe(1);
  expect(taken.stderr).toMatch(/^parley: .*taken/);
  // The refused account left no claim code behind: the two are written together.
  expect((adminJson("invites", "list") as unknown as unknown[]).length).toBe(invitesBefore);
  const bad = admin("users", "create", "Carol.Bad!");
  expect(bad.code).toBe(1);
  expect(bad.stderr).toMatch(/^parley: .*username/i);
  expect(bad.stderr).not.toMatch(/\bat .*\.ts:\d+/); // one line, no stack trace
});

test("users reset-2fa removes a lost second factor, audited", async () => {
  const invite = adminJson("invites", "create");
  const api = apiClient(server.url);
  await register(ctx, api, {
    username: "dave",
    proof: { kind: "invite", code: String(invite.code) },
    platform: "cli",
    prekeyCounts: FEW_PREKEYS,
  });
  const { secret } = await api.request<{ secret: string }>("POST", "/api/v1/account/totp");
  const totp = new TOTP({ secret: Secret.fromBase32(secret) });
  await api.request("POST", "/api/v1/account/totp/confirm", { body: { code: totp.generate() } });

  expect(admin("users", "reset-2fa", "dave")).toMatchObject({
    code: 0,
    stdout: "two-factor authentication removed for dave\n",
  });
  // Enrolling again is possible: the old factor is gone.
  expect(await api.request("POST", "/api/v1/account/totp")).toMatchObject({
    secret: expect.any(String),
  });
  const again = admin("users", "reset-2fa", "dave");
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/^parley: Two-factor authentication is not set up/);
  expect(admin("users", "reset-2fa", "nobody").stderr).toMatch(/^parley: .*(no such|not found)/i);

  const db = new Database(join(dir.path, "data", "parley.db"), { readonly: true });
  try {
    const rows = db
      .query("SELECT actor, action FROM audit_log WHERE action = 'totp.admin_reset'")
      .all();
    expect(rows).toEqual([{ actor: "admin-cli", action: "totp.admin_reset" }]);
  } finally {
    db.close();
  }
});

test("without a running server the error says what to check", () => {
  const r = admin("invites", "list", "--socket", join(dir.path, "nowhere.sock"));
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(
    `parley: no admin socket at ${join(dir.path, "nowhere.sock")}: is parley serve running (with the same data directory)?\n`,
  );
});

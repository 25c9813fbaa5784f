import { describe, expect, test } from "bun:test";
import { testContext } from "../../tests/support/deterministic.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { noblePrimitives } from "../crypto/noble.ts";
import type { Primitives } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import type { ConversationId, UserId } from "./ids.ts";
import { type AccountKeyPair, type AccountPublicKey, generateAccountKey } from "./keys.ts";
import {
  decodeMembershipEntry,
  encodeMembershipEntry,
  type MembershipEntry,
  membershipEntryHash,
  signMembershipEntry,
} from "./membership-entry.ts";
import {
  appendMembershipEntry,
  createMembershipLog,
  type MembershipState,
  verifyMembershipLog,
} from "./membership-log.ts";
import {
  canPost,
  checkMembershipAction,
  MAX_GROUP_MEMBERS,
  type MemberRole,
  type MembershipAction,
} from "./membership-rules.ts";

const native = (await nativePrimitives())!;
const GROUP = "01940000-0000-7000-8000-00000000c0de" as ConversationId;
const OTHER_GROUP = "01940000-0000-7000-8000-00000000c0df" as ConversationId;
const userId = (n: number) =>
  `01940000-0000-7000-8000-${n.toString(16).padStart(12, "0")}` as UserId;
const [OWNER, ADMIN, MEMBER, OUTSIDER] = [1, 2, 3, 4].map(userId) as [
  UserId,
  UserId,
  UserId,
  UserId,
];

async function codeOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (err) {
    if (err instanceof ParleyError) return err.code;
    throw err;
  }
  throw new Error("expected a ParleyError");
}

async function setup(prims: Primitives = native) {
  const ctx = testContext("membership", prims);
  const keys = new Map<UserId, AccountKeyPair>();
  for (const u of [OWNER, ADMIN, MEMBER, OUTSIDER]) keys.set(u, await generateAccountKey(ctx));
  const publicKeys = new Map<UserId, AccountPublicKey>([...keys].map(([u, k]) => [u, k.publicKey]));
  const log: MembershipEntry[] = [];
  let state: MembershipState;
  const created = await createMembershipLog(ctx, keys.get(OWNER)!.secretKey, {
    conversationId: GROUP,
    actor: OWNER,
  });
  log.push(created.entry);
  state = created.state;
  const act = async (actor: UserId, action: MembershipAction) => {
    const step = await appendMembershipEntry(ctx, keys.get(actor)!.secretKey, state, actor, action);
    log.push(step.entry);
    state = step.state;
    return step;
  };
  /** Signs the next entry without checking the rules (a hostile or buggy member). */
  const forceNext = async (actor: UserId, action: MembershipAction, signer = actor) =>
    signMembershipEntry(ctx, keys.get(signer)!.secretKey, {
      conversationId: GROUP,
      epoch: state.epoch + 1,
      previousHash: state.latestHash,
      actor,
      at: ctx.now(),
      action,
    });
  const verify = (
    entries: readonly MembershipEntry[],
    extra: { expectedLatestHash?: Uint8Array } = {},
  ) =>
    verifyMembershipLog(ctx, entries, {
      conversationId: GROUP,
      accountKeyOf: publicKeys,
      ...extra,
    });
  await act(OWNER, { type: "add", target: ADMIN, role: "admin" });
  await act(OWNER, { type: "add", target: MEMBER, role: "member" });
  return { ctx, keys, publicKeys, log, act, forceNext, verify, state: () => state };
}

const roles = (s: MembershipState) => Object.fromEntries(s.members) as Record<UserId, MemberRole>;

for (const prims of [noblePrimitives, native]) {
  test(`a valid multi-step history replays to the right state (${prims.name})`, async () => {
    const { ctx, log, act, verify, state } = await setup(prims);
    const info = await ctx.prims.sha256(new Uint8Array([9]));
    await act(ADMIN, { type: "set-info", infoHash: info });
    await act(ADMIN, { type: "add", target: OUTSIDER, role: "member" });
    await act(OWNER, { type: "set-announcements-only", enabled: true });
    await act(ADMIN, { type: "remove", target: OUTSIDER });
    await act(OWNER, { type: "set-role", target: MEMBER, role: "admin" });
    await act(OWNER, { type: "set-role", target: ADMIN, role: "owner" });
    await act(OWNER, { type: "leave" });
    const decoded = log.map((e) => decodeMembershipEntry(encodeMembershipEntry(e)));
    expect(decoded).toEqual(log);
    const replayed = await verify(decoded, { expectedLatestHash: state().latestHash });
    expect(replayed.epoch).toBe(9);
    expect(roles(replayed)).toEqual({ [ADMIN]: "owner", [MEMBER]: "admin" });
    expect(replayed.announcementsOnly).toBe(true);
    expect(replayed.infoHash).toEqual(info);
    expect(replayed.latestHash).toEqual(await membershipEntryHash(ctx, log.at(-1)!));
    expect(replayed).toEqual(state());
  });
}

describe("membership log: broken logs", () => {
  test("a truncated log does not end at the key header's hash", async () => {
    const { log, verify, state } = await setup();
    const expectedLatestHash = state().latestHash;
    await verify(log, { expectedLatestHash });
    expect(await codeOf(() => verify(log.slice(0, -1), { expectedLatestHash }))).toBe(
      "membership_log_invalid",
    );
  });

  test("reordered entries, an epoch gap, a missing create and an empty log are refused", async () => {
    const { log, verify } = await setup();
    const [create, addAdmin, addMember] = log as [
      MembershipEntry,
      MembershipEntry,
      MembershipEntry,
    ];
    for (const broken of [
      [create, addMember, addAdmin],
      [create, addMember],
      [addAdmin, addMember],
      [],
    ]) {
      expect(await codeOf(() => verify(broken))).toBe("membership_log_invalid");
    }
  });

  test("a forged signature, an unknown actor key, another conversation", async () => {
    const { ctx, log, forceNext, verify, publicKeys } = await setup();
    const forged = await forceNext(
      ADMIN,
      { type: "add", target: OUTSIDER, role: "member" },
      OUTSIDER,
    );
    expect(await codeOf(() => verify([...log, forged]))).toBe("membership_log_invalid");
    const missingKey = new Map(publicKeys);
    missingKey.delete(OWNER);
    expect(
      await codeOf(() =>
        verifyMembershipLog(ctx, log, { conversationId: GROUP, accountKeyOf: missingKey }),
      ),
    ).toBe("membership_log_invalid");
    expect(
      await codeOf(() =>
        verifyMembershipLog(ctx, log, { conversationId: OTHER_GROUP, accountKeyOf: publicKeys }),
      ),
    ).toBe("membership_log_invalid");
  });

  test("actions the actor's role does not allow are refused in the log", async () => {
    const { log, act, forceNext, verify } = await setup();
    const refused: [UserId, MembershipAction][] = [
      [MEMBER, { type: "add", target: OUTSIDER, role: "member" }],
      [ADMIN, { type: "set-role", target: MEMBER, role: "owner" }],
      [ADMIN, { type: "set-role", target: MEMBER, role: "admin" }],
      [ADMIN, { type: "add", target: OUTSIDER, role: "admin" }],
      [ADMIN, { type: "remove", target: OWNER }],
      [OWNER, { type: "leave" }],
      [MEMBER, { type: "set-info", infoHash: new Uint8Array(32) }],
      [MEMBER, { type: "set-announcements-only", enabled: true }],
      [OUTSIDER, { type: "leave" }],
      [OWNER, { type: "set-role", target: ADMIN, role: "admin" }],
      [OWNER, { type: "remove", target: OWNER }],
      [OWNER, { type: "add", target: MEMBER, role: "member" }],
    ];
    for (const [actor, action] of refused) {
      const entry = await forceNext(actor, action);
      expect(await codeOf(() => verify([...log, entry]))).toBe("membership_log_invalid");
    }
    // A removed member can no longer act.
    await act(ADMIN, { type: "remove", target: MEMBER });
    const late = await forceNext(MEMBER, { type: "set-info", infoHash: new Uint8Array(32) });
    expect(await codeOf(() => verify([...log, late]))).toBe("membership_log_invalid");
    // An admin cannot remove another admin.
    await act(OWNER, { type: "add", target: OUTSIDER, role: "admin" });
    const coup = await forceNext(ADMIN, { type: "remove", target: OUTSIDER });
    expect(await codeOf(() => verify([...log, coup]))).toBe("membership_log_invalid");
  });

  test("appending checks the same rules (forbidden), and verification continues from a saved state", async () => {
    const { ctx, keys, log, act, verify, state, publicKeys } = await setup();
    const saved = await verify(log);
    expect(
      await codeOf(() =>
        appendMembershipEntry(ctx, keys.get(MEMBER)!.secretKey, state(), MEMBER, {
          type: "remove",
          target: ADMIN,
        }),
      ),
    ).toBe("forbidden");
    const before = log.length;
    await act(MEMBER, { type: "leave" });
    await act(OWNER, { type: "add", target: OUTSIDER, role: "member" });
    const continued = await verifyMembershipLog(ctx, log.slice(before), {
      conversationId: GROUP,
      accountKeyOf: (u) => publicKeys.get(u),
      from: saved,
      expectedLatestHash: state().latestHash,
    });
    expect(roles(continued)).toEqual({ [OWNER]: "owner", [ADMIN]: "admin", [OUTSIDER]: "member" });
    expect(
      await codeOf(() =>
        verifyMembershipLog(ctx, log.slice(before + 1), {
          conversationId: GROUP,
          accountKeyOf: publicKeys,
          from: saved,
        }),
      ),
    ).toBe("membership_log_invalid");
  });
});

describe("membership rules", () => {
  const group = (members: [UserId, MemberRole][], announcementsOnly = false) => ({
    members: new Map(members),
    announcementsOnly,
  });

  test("canPost follows announcements-only", () => {
    const open = group([
      [OWNER, "owner"],
      [ADMIN, "admin"],
      [MEMBER, "member"],
    ]);
    expect([OWNER, ADMIN, MEMBER, OUTSIDER].map((u) => canPost(open, u))).toEqual([
      true,
      true,
      true,
      false,
    ]);
    const announcements = { ...open, announcementsOnly: true };
    expect([OWNER, ADMIN, MEMBER, OUTSIDER].map((u) => canPost(announcements, u))).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });

  test("a full group refuses another member with limit_exceeded", () => {
    const members: [UserId, MemberRole][] = [[OWNER, "owner"]];
    for (let i = 1; i < MAX_GROUP_MEMBERS; i++) members.push([userId(1000 + i), "member"]);
    const full = group(members);
    expect(full.members.size).toBe(MAX_GROUP_MEMBERS);
    expect(() =>
      checkMembershipAction(full, OWNER, { type: "add", target: OUTSIDER, role: "member" }),
    ).toThrow(expect.objectContaining({ code: "limit_exceeded" }));
    const roomy = group(members.slice(0, -1));
    checkMembershipAction(roomy, OWNER, { type: "add", target: OUTSIDER, role: "member" });
  });

  test("create is never allowed after epoch 0, and the owner leaves only when alone", () => {
    const g = group([[OWNER, "owner"]]);
    expect(() => checkMembershipAction(g, OWNER, { type: "create" })).toThrow(
      expect.objectContaining({ code: "forbidden" }),
    );
    checkMembershipAction(g, OWNER, { type: "leave" });
  });
});

// Property tests for the membership log, against a model written from the rule sentences
// (MEMBERSHIP_RULES) independently of membership-rules.ts.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { testContext } from "../../tests/support/deterministic.ts";
import { nativePrimitives } from "../crypto/native.ts";
import { ParleyError } from "../errors.ts";
import type { ConversationId, UserId } from "./ids.ts";
import { type AccountKeyPair, type AccountPublicKey, generateAccountKey } from "./keys.ts";
import { type MembershipEntry, signMembershipEntry } from "./membership-entry.ts";
import {
  appendMembershipEntry,
  createMembershipLog,
  type MembershipState,
  verifyMembershipLog,
} from "./membership-log.ts";
import {
  type MemberRole,
  type MembershipAction,
  membershipActionProblem,
} from "./membership-rules.ts";

const native = (await nativePrimitives())!;
const ctx = testContext("membership properties", native);
const GROUP = "01940000-0000-7000-8000-00000000c0de" as ConversationId;
const USERS = [1, 2, 3, 4, 5, 6].map(
  (n) => `01940000-0000-7000-8000-${n.toString(16).padStart(12, "0")}` as UserId,
);
const KEYS = new Map<UserId, AccountKeyPair>();
for (const u of USERS) KEYS.set(u, await generateAccountKey(ctx));
const PUBLIC = new Map<UserId, AccountPublicKey>([...KEYS].map(([u, k]) => [u, k.publicKey]));
const ROLES: MemberRole[] = ["owner", "admin", "member"];

// ---- the model ----
interface Model {
  members: Map<UserId, MemberRole>;
  announcementsOnly: boolean;
}
const rank = (r: MemberRole) => ({ owner: 3, admin: 2, member: 1 })[r];

function modelAllows(m: Model, actor: UserId, a: MembershipAction): boolean {
  const r = m.members.get(actor);
  if (!r) return false;
  const managers = r === "owner" || r === "admin";
  const t = "target" in a ? m.members.get(a.target) : undefined;
  switch (a.type) {
    case "create":
      return false;
    case "add":
      return (
        managers &&
        a.target !== actor &&
        t === undefined &&
        (a.role === "member" || (a.role === "admin" && r === "owner"))
      );
    case "remove":
      return managers && a.target !== actor && t !== undefined && rank(r) > rank(t);
    case "leave":
      return r !== "owner" || m.members.size === 1;
    case "set-role":
      return r === "owner" && a.target !== actor && t !== undefined && t !== a.role;
    case "set-info":
    case "set-announcements-only":
      return managers;
  }
}

function modelApply(m: Model, actor: UserId, a: MembershipAction): Model {
  const members = new Map(m.members);
  let announcementsOnly = m.announcementsOnly;
  if (a.type === "add") members.set(a.target, a.role);
  if (a.type === "remove") members.delete(a.target);
  if (a.type === "leave") members.delete(actor);
  if (a.type === "set-role") {
    if (a.role === "owner") members.set(actor, "admin");
    members.set(a.target, a.role);
  }
  if (a.type === "set-announcements-only") announcementsOnly = a.enabled;
  return { members, announcementsOnly };
}

/** Every (actor, action) pair over the user pool, in a fixed order. */
function candidates(step: number): [UserId, MembershipAction][] {
  const out: [UserId, MembershipAction][] = [];
  for (const actor of USERS) {
    out.push([actor, { type: "leave" }]);
    out.push([actor, { type: "set-info", infoHash: new Uint8Array(32).fill(step & 0xff) }]);
    out.push([actor, { type: "set-announcements-only", enabled: step % 2 === 0 }]);
    for (const target of USERS) {
      out.push([actor, { type: "remove", target }]);
      for (const role of ROLES) {
        if (role !== "owner") out.push([actor, { type: "add", target, role }]);
        out.push([actor, { type: "set-role", target, role }]);
      }
    }
  }
  return out;
}

/** A valid history chosen by `choices`, signed; with the model's final state. */
async function buildLog(choices: number[]) {
  let step = await createMembershipLog(ctx, KEYS.get(USERS[0]!)!.secretKey, {
    conversationId: GROUP,
    actor: USERS[0]!,
  });
  const log: MembershipEntry[] = [step.entry];
  let model: Model = { members: new Map([[USERS[0]!, "owner"]]), announcementsOnly: false };
  for (const [i, choice] of choices.entries()) {
    const valid = candidates(i).filter(([actor, a]) => modelAllows(model, actor, a));
    if (valid.length === 0) break;
    const [actor, action] = valid[choice % valid.length]!;
    step = await appendMembershipEntry(ctx, KEYS.get(actor)!.secretKey, step.state, actor, action);
    log.push(step.entry);
    model = modelApply(model, actor, action);
  }
  return { log, model, state: step.state };
}

const verify = (entries: MembershipEntry[], expectedLatestHash?: Uint8Array) =>
  verifyMembershipLog(ctx, entries, {
    conversationId: GROUP,
    accountKeyOf: PUBLIC,
    expectedLatestHash,
  });

const sameAsModel = (state: MembershipState, model: Model) => {
  expect(Object.fromEntries(state.members)).toEqual(Object.fromEntries(model.members));
  expect(state.announcementsOnly).toBe(model.announcementsOnly);
};

describe("membership log properties", () => {
  test("a random valid history always verifies and replays to the model's state", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 16 }), async (choices) => {
        const { log, model, state } = await buildLog(choices);
        const replayed = await verify(log, state.latestHash);
        sameAsModel(replayed, model);
        expect(replayed.epoch).toBe(log.length - 1);
      }),
      { numRuns: 60 },
    );
  });

  test("dropping, swapping, duplicating or re-signing any entry breaks verification", async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant("drop" as const), i: fc.nat() }),
      fc.record({ kind: fc.constant("swap" as const), i: fc.nat(), j: fc.nat() }),
      fc.record({ kind: fc.constant("duplicate" as const), i: fc.nat(), j: fc.nat() }),
      fc.record({ kind: fc.constant("resign" as const), i: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: 1, maxLength: 10 }),
        mutation,
        async (choices, m) => {
          const { log, state } = await buildLog(choices);
          const n = log.length;
          const mutated = [...log];
          const i = m.i % n;
          if (m.kind === "drop") mutated.splice(i, 1);
          if (m.kind === "swap") {
            const j = m.j % n;
            fc.pre(i !== j);
            [mutated[i], mutated[j]] = [mutated[j]!, mutated[i]!];
          }
          if (m.kind === "duplicate") mutated.splice(i, 0, log[m.j % n]!);
          if (m.kind === "resign") {
            // A validly signed fork of entry i: same action, another time.
            const e = log[i]!;
            mutated[i] = await signMembershipEntry(ctx, KEYS.get(e.actor)!.secretKey, {
              ...e,
              at: e.at + 1,
            });
          }
          let code: string | undefined;
          try {
            await verify(mutated, state.latestHash);
          } catch (err) {
            code = err instanceof ParleyError ? err.code : String(err);
          }
          expect(code).toBe("membership_log_invalid");
        },
      ),
      { numRuns: 80 },
    );
  });

  test("the rules agree with the model on any state and any action", () => {
    const role = fc.constantFrom<MemberRole | null>(null, "admin", "member");
    const user = fc.constantFrom(...USERS);
    const action: fc.Arbitrary<MembershipAction> = fc.oneof(
      fc.constant({ type: "create" as const }),
      fc.constant({ type: "leave" as const }),
      fc.record({
        type: fc.constant("add" as const),
        target: user,
        role: fc.constantFrom("admin" as const, "member" as const),
      }),
      fc.record({ type: fc.constant("remove" as const), target: user }),
      fc.record({
        type: fc.constant("set-role" as const),
        target: user,
        role: fc.constantFrom(...ROLES),
      }),
      fc.constant({ type: "set-info" as const, infoHash: new Uint8Array(32) }),
      fc.record({ type: fc.constant("set-announcements-only" as const), enabled: fc.boolean() }),
    );
    fc.assert(
      fc.property(
        fc.array(role, { minLength: USERS.length, maxLength: USERS.length }),
        fc.nat(USERS.length - 1),
        fc.boolean(),
        user,
        action,
        (roles, ownerIndex, announcementsOnly, actor, a) => {
          const members = new Map<UserId, MemberRole>();
          roles.forEach((r, i) => {
            if (r) members.set(USERS[i]!, r);
          });
          members.set(USERS[ownerIndex]!, "owner");
          const model = { members, announcementsOnly };
          expect(membershipActionProblem(model, actor, a) === undefined).toBe(
            modelAllows(model, actor, a),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });
});

import { ParleyError } from "../errors.ts";
import type { UserId } from "./ids.ts";

/**
 * The group membership rules, in one place for both sides: clients apply them while
 * replaying the signed membership log (`verifyMembershipLog`), the server applies the same
 * functions to the clear ids and roles it stores before accepting an entry or a post.
 */

/** Roles, with their wire byte. There is exactly one owner at any time. */
export const MEMBER_ROLES = { owner: 1, admin: 2, member: 3 } as const;
/** A member's role (a key of {@link MEMBER_ROLES}). */
export type MemberRole = keyof typeof MEMBER_ROLES;

/** Membership log actions, with their wire byte; never reuse a retired value. */
export const MEMBERSHIP_ACTIONS = {
  create: 1,
  add: 2,
  remove: 3,
  leave: 4,
  "set-role": 5,
  "set-info": 6,
  "set-announcements-only": 7,
} as const;
/** An action type (a key of {@link MEMBERSHIP_ACTIONS}). */
export type MembershipActionType = keyof typeof MEMBERSHIP_ACTIONS;

/** One membership change, as signed into a log entry. */
export type MembershipAction =
  | { type: "create" }
  | { type: "add"; target: UserId; role: "admin" | "member" }
  | { type: "remove"; target: UserId }
  | { type: "leave" }
  | { type: "set-role"; target: UserId; role: MemberRole }
  /** `infoHash`: SHA-256 of the group info ciphertext (title, description, avatar). */
  | { type: "set-info"; infoHash: Uint8Array }
  | { type: "set-announcements-only"; enabled: boolean };

/** The part of a group's state the rules read: who is in it, with which role, and the flag. */
export interface GroupMembership {
  readonly members: ReadonlyMap<UserId, MemberRole>;
  readonly announcementsOnly: boolean;
}

/** The most members one group may have (each send fans out a key header per device). */
export const MAX_GROUP_MEMBERS = 1000;

/** One row of {@link MEMBERSHIP_RULES}. */
export interface MembershipRule {
  /** Roles that may take the action; the actor must be a current member holding one. */
  readonly actors: readonly MemberRole[];
  /** Whether the action names a target, and whether the target must already be a member. */
  readonly target: "none" | "member" | "non-member";
  /** The whole rule in a sentence (docs/PROTOCOL.md copies these). */
  readonly rule: string;
}

/** The permission table. {@link membershipActionProblem} implements exactly these sentences. */
export const MEMBERSHIP_RULES: Readonly<Record<MembershipActionType, MembershipRule>> = {
  create: {
    actors: [],
    target: "none",
    rule: "Only as the log's first entry (epoch 0), which makes the actor the owner.",
  },
  add: {
    actors: ["owner", "admin"],
    target: "non-member",
    rule: `Adds the target as a member, or as an admin when the actor is the owner; never as owner; at most ${MAX_GROUP_MEMBERS} members.`,
  },
  remove: {
    actors: ["owner", "admin"],
    target: "member",
    rule: "The actor must outrank the target (owner > admin > member): the owner removes admins and members, an admin removes members. Nobody removes the owner; no one removes themselves (that is leave).",
  },
  leave: {
    actors: ["owner", "admin", "member"],
    target: "none",
    rule: "Any member leaves; the owner only as the last member (transfer ownership first).",
  },
  "set-role": {
    actors: ["owner"],
    target: "member",
    rule: "The owner changes another member's role, which must differ from the current one; giving the owner role transfers ownership (the actor becomes an admin).",
  },
  "set-info": {
    actors: ["owner", "admin"],
    target: "none",
    rule: "Commits to a new group info ciphertext (title, description, avatar) by its hash.",
  },
  "set-announcements-only": {
    actors: ["owner", "admin"],
    target: "none",
    rule: "Turns announcements-only on or off; while on, only the owner and admins may post.",
  },
};

/** The posting rule, in a sentence: see {@link canPost}. */
export const POSTING_RULE =
  "A current member may post; while announcements-only is on, only the owner and admins.";

const RANK: Record<MemberRole, number> = { owner: 3, admin: 2, member: 1 };

/** True when `userId` may post to the group now ({@link POSTING_RULE}). */
export function canPost(group: GroupMembership, userId: UserId): boolean {
  const role = group.members.get(userId);
  if (role === undefined) return false;
  return !group.announcementsOnly || role !== "member";
}

/** Why the rules refuse `actor` taking `action` in `group`, or undefined when allowed. */
export function membershipActionProblem(
  group: GroupMembership,
  actor: UserId,
  action: MembershipAction,
): { code: "forbidden" | "limit_exceeded"; detail: string } | undefined {
  const forbid = (detail: string) => ({ code: "forbidden" as const, detail });
  const rule = MEMBERSHIP_RULES[action.type];
  if (rule === undefined) return forbid("unknown action");
  const actorRole = group.members.get(actor);
  if (actorRole === undefined) return forbid(`${action.type}: the actor is not a member`);
  if (!rule.actors.includes(actorRole))
    return forbid(`${action.type}: not allowed to ${actorRole}`);
  if ("target" in action) {
    if (action.target === actor) return forbid(`${action.type}: the actor cannot target itself`);
    const isMember = group.members.has(action.target);
    if (rule.target === "member" && !isMember) return forbid(`${action.type}: not a member`);
    if (rule.target === "non-member" && isMember) return forbid(`${action.type}: already a member`);
  }
  switch (action.type) {
    case "add":
      if (action.role !== "member" && action.role !== "admin") return forbid("add: bad role");
      if (action.role === "admin" && actorRole !== "owner")
        return forbid("add: only the owner adds admins");
      if (group.members.size >= MAX_GROUP_MEMBERS) {
        return { code: "limit_exceeded", detail: `more than ${MAX_GROUP_MEMBERS} members` };
      }
      return undefined;
    case "remove":
      if (RANK[actorRole] <= RANK[group.members.get(action.target)!]) {
        return forbid("remove: the actor does not outrank the target");
      }
      return undefined;
    case "leave":
      if (actorRole === "owner" && group.members.size > 1) {
        return forbid("leave: the owner must transfer ownership first");
      }
      return undefined;
    case "set-role":
      if (RANK[action.role] === undefined) return forbid("set-role: bad role");
      if (group.members.get(action.target) === action.role) return forbid("set-role: no change");
      return undefined;
    default:
      return undefined;
  }
}

/** Throws ParleyError `forbidden` (or `limit_exceeded`) unless the rules allow the action. */
export function checkMembershipAction(
  group: GroupMembership,
  actor: UserId,
  action: MembershipAction,
): void {
  const problem = membershipActionProblem(group, actor, action);
  if (problem) throw new ParleyError(problem.code, undefined, { detail: problem.detail });
}

/**
 * The group after an allowed action (the caller checked it; `set-info` changes nothing the
 * rules read). Returns a new object; `group` is left as it was.
 */
export function applyMembershipAction<T extends GroupMembership>(
  group: T,
  actor: UserId,
  action: MembershipAction,
): T {
  const members = new Map(group.members);
  let announcementsOnly = group.announcementsOnly;
  switch (action.type) {
    case "create":
      members.set(actor, "owner");
      break;
    case "add":
      members.set(action.target, action.role);
      break;
    case "remove":
      members.delete(action.target);
      break;
    case "leave":
      members.delete(actor);
      break;
    case "set-role":
      if (action.role === "owner") members.set(actor, "admin");
      members.set(action.target, action.role);
      break;
    case "set-announcements-only":
      announcementsOnly = action.enabled;
      break;
    case "set-info":
      break;
  }
  return { ...group, members, announcementsOnly };
}

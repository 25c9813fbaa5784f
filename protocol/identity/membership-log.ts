import { constantTimeEqual } from "../crypto/constant-time.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { SHA256_BYTES } from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";
import type { ConversationId, UserId } from "./ids.ts";
import type { AccountPublicKey, AccountSecretKey } from "./keys.ts";
import {
  type MembershipEntry,
  membershipEntryBody,
  membershipEntryHash,
  membershipEntryShapeProblem,
  signMembershipEntry,
} from "./membership-entry.ts";
import {
  applyMembershipAction,
  checkMembershipAction,
  type GroupMembership,
  type MembershipAction,
  membershipActionProblem,
} from "./membership-rules.ts";
import { encodeForVerification, verifyBody } from "./signed.ts";

/** A group's state after replaying its membership log up to `epoch`. */
export interface MembershipState extends GroupMembership {
  readonly conversationId: ConversationId;
  /** The last entry's epoch: the membership epoch messages and key headers name. */
  readonly epoch: number;
  /** The last entry's hash: what key headers carry. */
  readonly latestHash: Uint8Array;
  /** Hash of the current group info ciphertext; null until the first `set-info`. */
  readonly infoHash: Uint8Array | null;
}

/**
 * Where the verifier finds each actor's account key: a map, or a function that also sees
 * the entry (so a caller that tracks identity resets can answer with the key valid then).
 */
export type AccountKeyLookup =
  | ReadonlyMap<UserId, AccountPublicKey>
  | ((
      userId: UserId,
      entry: MembershipEntry,
    ) => AccountPublicKey | undefined | Promise<AccountPublicKey | undefined>);

/** What a membership log is checked against. */
export interface MembershipLogExpectation {
  conversationId: ConversationId;
  accountKeyOf: AccountKeyLookup;
  /** The latest hash a key header carried: the replayed log must end exactly there. */
  expectedLatestHash?: Uint8Array;
  /** A state verified earlier: `entries` then continue it instead of starting at `create`. */
  from?: MembershipState;
}

/** Most entries one call replays (a long-lived group is verified on from a saved state). */
export const MAX_MEMBERSHIP_ENTRIES_PER_VERIFY = 100_000;

const broken = (detail: string) =>
  new ParleyError("membership_log_invalid", undefined, { detail: `membership log: ${detail}` });

/** The state after `entry`, given the state before it (undefined before `create`). */
async function advance(
  ctx: ProtocolContext,
  before: MembershipState | undefined,
  entry: MembershipEntry,
): Promise<MembershipState> {
  const latestHash = await membershipEntryHash(ctx, entry);
  const base: MembershipState = before ?? {
    conversationId: entry.conversationId,
    epoch: 0,
    latestHash,
    members: new Map(),
    announcementsOnly: false,
    infoHash: null,
  };
  const next = applyMembershipAction(base, entry.actor, entry.action);
  const infoHash = entry.action.type === "set-info" ? entry.action.infoHash : base.infoHash;
  return { ...next, epoch: entry.epoch, latestHash, infoHash };
}

async function keyOf(
  lookup: AccountKeyLookup,
  entry: MembershipEntry,
): Promise<AccountPublicKey | undefined> {
  return typeof lookup === "function" ? lookup(entry.actor, entry) : lookup.get(entry.actor);
}

/**
 * Replays a membership log and returns the resulting state, or throws
 * `membership_log_invalid` (the detail says why) when: an entry is malformed or for
 * another conversation; the first entry is not `create` at epoch 0 (or, with `from`, does
 * not continue it); epochs are not consecutive or an entry's `previousHash` is not the hash
 * of the entry before (reordered, dropped, inserted or forked entries); an actor's account
 * key is unknown or its signature does not verify; an action breaks MEMBERSHIP_RULES (a
 * member adding someone, an admin making an owner, a removed member acting…); or the final
 * hash differs from `expectedLatestHash` (a log cut short or grown past the key header).
 * More than MAX_MEMBERSHIP_ENTRIES_PER_VERIFY entries is `limit_exceeded`.
 */
export async function verifyMembershipLog(
  ctx: ProtocolContext,
  entries: readonly MembershipEntry[],
  expected: MembershipLogExpectation,
): Promise<MembershipState> {
  if (entries.length > MAX_MEMBERSHIP_ENTRIES_PER_VERIFY) {
    throw new ParleyError("limit_exceeded", undefined, {
      detail: `membership log: more than ${MAX_MEMBERSHIP_ENTRIES_PER_VERIFY} entries at once`,
    });
  }
  let state = expected.from;
  if (state && state.conversationId !== expected.conversationId) {
    throw broken("the saved state is for another conversation");
  }
  if (!state && entries.length === 0) throw broken("empty");

  for (const entry of entries) {
    const at = `epoch ${entry.epoch}`;
    const shape = membershipEntryShapeProblem(entry);
    if (shape) throw broken(`${at}: ${shape}`);
    if (entry.conversationId !== expected.conversationId) {
      throw broken(`${at}: entry of another conversation`);
    }
    const wantEpoch = state ? state.epoch + 1 : 0;
    if (entry.epoch !== wantEpoch) throw broken(`${at}: expected epoch ${wantEpoch}`);
    const wantPrevious = state?.latestHash ?? new Uint8Array(SHA256_BYTES);
    if (!constantTimeEqual(entry.previousHash, wantPrevious)) {
      throw broken(`${at}: does not link to the entry before`);
    }

    const key = await keyOf(expected.accountKeyOf, entry);
    if (!key) throw broken(`${at}: unknown account key for the actor`);
    const body = encodeForVerification("membership_log_invalid", "membership entry", () =>
      membershipEntryBody(entry),
    );
    try {
      await verifyBody(ctx, key, "membershipEntry", body, entry.signature);
    } catch {
      throw broken(`${at}: signature does not verify`);
    }

    if (state) {
      const problem = membershipActionProblem(state, entry.actor, entry.action);
      if (problem) throw broken(`${at}: ${problem.detail}`);
    }
    state = await advance(ctx, state, entry);
  }

  const final = state!;
  if (
    expected.expectedLatestHash !== undefined &&
    !constantTimeEqual(final.latestHash, expected.expectedLatestHash)
  ) {
    throw broken(`ends at epoch ${final.epoch}, not at the expected hash (cut short or forked)`);
  }
  return final;
}

/** A newly signed entry and the state after it. */
export interface AppendedEntry {
  entry: MembershipEntry;
  state: MembershipState;
}

/** Starts a group's membership log: the `create` entry at epoch 0, making `actor` the owner. */
export async function createMembershipLog(
  ctx: ProtocolContext,
  actorSecretKey: AccountSecretKey,
  fields: { conversationId: ConversationId; actor: UserId; at?: number },
): Promise<AppendedEntry> {
  const entry = await signMembershipEntry(ctx, actorSecretKey, {
    conversationId: fields.conversationId,
    epoch: 0,
    previousHash: new Uint8Array(SHA256_BYTES),
    actor: fields.actor,
    at: fields.at ?? ctx.now(),
    action: { type: "create" },
  });
  return { entry, state: await advance(ctx, undefined, entry) };
}

/**
 * Signs the next entry of a log whose current state is `state`, after checking the rules
 * (ParleyError `forbidden` or `limit_exceeded` when they refuse).
 */
export async function appendMembershipEntry(
  ctx: ProtocolContext,
  actorSecretKey: AccountSecretKey,
  state: MembershipState,
  actor: UserId,
  action: MembershipAction,
  at: number = ctx.now(),
): Promise<AppendedEntry> {
  checkMembershipAction(state, actor, action);
  const entry = await signMembershipEntry(ctx, actorSecretKey, {
    conversationId: state.conversationId,
    epoch: state.epoch + 1,
    previousHash: state.latestHash,
    actor,
    at,
    action,
  });
  return { entry, state: await advance(ctx, state, entry) };
}

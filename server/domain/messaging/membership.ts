import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { fromHex, toHex } from "../../../protocol/crypto/bytes.ts";
import type { ProtocolContext } from "../../../protocol/crypto/context.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import { asAccountPublicKey } from "../../../protocol/identity/keys.ts";
import { decodeMembershipEntry } from "../../../protocol/identity/membership-entry.ts";
import {
  type MembershipState,
  verifyMembershipLog,
} from "../../../protocol/identity/membership-log.ts";
import {
  checkMembershipAction,
  type MemberRole,
} from "../../../protocol/identity/membership-rules.ts";
import { isGroupConversationId } from "../../../protocol/messages/conversation-id.ts";
import type { Principal } from "../accounts/tokens.ts";
import type { AccountsStore } from "../ports/accounts.ts";
import type { ConversationRecord, ConversationsStore } from "../ports/conversations.ts";
import type { EventBus } from "../ports/events.ts";
import type { ConversationId, UserId } from "../ports.ts";

/** What a client sends to create a group or change it: a signed membership log entry. */
export interface MembershipRequest {
  /** The encoded, signed entry (protocol/identity/membership-entry.ts), base64url. */
  entry: string;
  /** For `set-info`: the group info ciphertext whose SHA-256 the entry names. */
  infoCiphertext?: string;
}

/**
 * Groups: the server checks every membership entry exactly as clients do — signed by the
 * actor's current account key, next in the hash chain, allowed by MEMBERSHIP_RULES against
 * the members and roles it stores — then appends it and applies it in one transaction that
 * also checks no other change came first, and tells the members.
 */
export function membershipService(deps: {
  ctx: ProtocolContext;
  conversations: ConversationsStore;
  accounts: AccountsStore;
  events: EventBus;
}) {
  const { ctx } = deps;

  async function accountKeyOf(userId: UserId) {
    const account = await deps.accounts.findById(userId);
    return account?.accountKey && account.deletedAt === null
      ? asAccountPublicKey(account.accountKey)
      : undefined;
  }

  /** The stored state of a group, as the protocol's verifier continues it. */
  async function stateOf(group: ConversationRecord): Promise<MembershipState> {
    const members = await deps.conversations.members(group.id);
    return {
      conversationId: group.id,
      epoch: group.membershipEpoch ?? 0,
      latestHash: fromHex(group.logHeadHash ?? ""),
      members: new Map(members.map((m) => [m.userId, m.role] as const)),
      announcementsOnly: group.announcementsOnly,
      infoHash: null,
    };
  }

  async function verified(
    principal: Principal,
    conversationId: ConversationId,
    req: MembershipRequest,
    from: MembershipState | undefined,
  ) {
    const bytes = fromBase64Url(req.entry, "body.entry");
    const entry = decodeMembershipEntry(bytes);
    if (entry.conversationId !== conversationId || entry.actor !== principal.userId) {
      throw new ParleyError(
        "invalid_request",
        "The entry is for another conversation or another actor.",
        { field: "body.entry" },
      );
    }
    if (from && entry.epoch !== from.epoch + 1) throw new ParleyError("stale_membership");
    // The rules first, so a change the actor may not make is `forbidden`, not a bad log.
    if (from) checkMembershipAction(from, principal.userId, entry.action);
    const actorKey = await accountKeyOf(principal.userId);
    const state = await verifyMembershipLog(ctx, [entry], {
      conversationId,
      accountKeyOf: (userId) => (userId === principal.userId ? actorKey : undefined),
      ...(from ? { from } : {}),
    });
    let infoCiphertext: Uint8Array | undefined;
    if (entry.action.type === "set-info") {
      if (!req.infoCiphertext) {
        throw new ParleyError("invalid_request", "set-info needs the info ciphertext.", {
          field: "body.infoCiphertext",
        });
      }
      infoCiphertext = fromBase64Url(req.infoCiphertext, "body.infoCiphertext");
      const hash = await ctx.prims.sha256(infoCiphertext);
      if (toHex(hash) !== toHex(entry.action.infoHash)) {
        throw new ParleyError("invalid_request", "The info ciphertext is not the one signed.", {
          field: "body.infoCiphertext",
        });
      }
    }
    if (entry.action.type === "add" && !(await accountKeyOf(entry.action.target))) {
      throw new ParleyError("user_not_found");
    }
    return { bytes, entry, state, infoCiphertext };
  }

  function announce(
    conversationId: ConversationId,
    members: Iterable<UserId>,
    epoch: number,
    entry: Uint8Array,
  ) {
    const event = {
      type: "membership_changed" as const,
      conversationId,
      epoch,
      entry: toBase64Url(entry),
    };
    deps.events.toUsers([...members], event);
  }

  return {
    /** Creates a group from its signed `create` entry: the creator is its owner. */
    async create(principal: Principal, conversationId: ConversationId, req: MembershipRequest) {
      if (!isGroupConversationId(conversationId)) {
        throw new ParleyError("invalid_request", "A group id is a UUIDv7.", { field: "body.id" });
      }
      const { bytes, entry, state } = await verified(principal, conversationId, req, undefined);
      const refused = await deps.conversations.createGroup({
        conversationId,
        epoch: 0,
        entry: bytes,
        hash: toHex(state.latestHash),
        previousHash: toHex(entry.previousHash),
        actor: principal.userId,
        after: state,
        now: ctx.now(),
      });
      if (refused) throw new ParleyError("conversation_exists");
      return { conversationId, epoch: 0 };
    },

    /** Appends a signed entry to a group's log (add, remove, leave, roles, info, flag). */
    async change(principal: Principal, conversationId: ConversationId, req: MembershipRequest) {
      const group = await deps.conversations.get(conversationId);
      if (group?.kind !== "group") throw new ParleyError("conversation_not_found");
      const before = await stateOf(group);
      if (!before.members.has(principal.userId)) throw new ParleyError("not_a_member");
      const { bytes, entry, state, infoCiphertext } = await verified(
        principal,
        conversationId,
        req,
        before,
      );
      const refused = await deps.conversations.appendMembership({
        conversationId,
        epoch: entry.epoch,
        entry: bytes,
        hash: toHex(state.latestHash),
        previousHash: toHex(entry.previousHash),
        actor: principal.userId,
        after: state,
        ...(infoCiphertext ? { infoCiphertext } : {}),
        now: ctx.now(),
      });
      if (refused) throw new ParleyError("stale_membership");
      // Everyone in the group before or after the change hears of it (a removed member too).
      announce(
        conversationId,
        new Set([...before.members.keys(), ...state.members.keys()]),
        entry.epoch,
        bytes,
      );
      return { conversationId, epoch: entry.epoch };
    },

    /** A conversation with its members, for one of its current members. */
    async get(principal: Principal, conversationId: ConversationId) {
      const conversation = await deps.conversations.get(conversationId);
      if (!conversation) throw new ParleyError("conversation_not_found");
      const members = await deps.conversations.members(conversationId);
      if (!members.some((m) => m.userId === principal.userId))
        throw new ParleyError("not_a_member");
      return {
        conversation,
        members: members
          .filter((m) => !m.accountDeleted)
          .map(({ userId, role, joinedAt }) => ({ userId, role, joinedAt })),
      };
    },

    /**
     * The signed log after `afterEpoch`: all of it for a member, up to the entry that removed
     * them for a former one (what they saw while in the group).
     */
    async log(principal: Principal, conversationId: ConversationId, afterEpoch: number) {
      const periods = await deps.conversations.periods(conversationId, principal.userId);
      if (periods.length === 0) {
        const exists = await deps.conversations.get(conversationId);
        throw new ParleyError(exists ? "not_a_member" : "conversation_not_found");
      }
      const upTo = periods.some((p) => p.untilEpoch === null)
        ? Number.POSITIVE_INFINITY
        : Math.max(...periods.map((p) => p.untilEpoch ?? 0));
      const entries = await deps.conversations.membershipLog(conversationId, afterEpoch);
      return entries.filter((_, i) => afterEpoch + 1 + i <= upTo).map(toBase64Url);
    },

    list: (principal: Principal) => deps.conversations.listFor(principal.userId),
  };
}

export type MembershipService = ReturnType<typeof membershipService>;
export type { MemberRole };

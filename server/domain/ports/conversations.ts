import type { GroupMembership, MemberRole } from "../../../protocol/identity/membership-rules.ts";
import type { ConversationId, UserId } from "../ports.ts";

export type ConversationKind = "direct" | "group";

export interface ConversationRecord {
  id: ConversationId;
  kind: ConversationKind;
  /** The newest message's sequence (0 before the first message). */
  lastSeq: number;
  /** Groups: the newest membership log entry's epoch and hash (hex); null for direct. */
  membershipEpoch: number | null;
  logHeadHash: string | null;
  announcementsOnly: boolean;
  infoCiphertext: Uint8Array | null;
  createdAt: number;
  updatedAt: number;
}

export interface MemberRecord {
  userId: UserId;
  role: MemberRole;
  joinedAt: number;
  /** The account was deleted: still a member for the signed log's rules, but gets nothing. */
  accountDeleted: boolean;
}

/** One stay of a member: the sequences (and membership epochs) it covers. */
export interface MemberPeriod {
  fromSeq: number;
  /** null while the stay goes on. */
  untilSeq: number | null;
  fromEpoch: number;
  untilEpoch: number | null;
}

/** A conversation as one user sees it in their list (a former member: as it was when they left). */
export interface ConversationSummary extends ConversationRecord {
  /** null for a former member. */
  role: MemberRole | null;
  /** This user's positions: delivered to any of their devices, and read. */
  deliveredSeq: number;
  readSeq: number;
}

/** A verified membership log entry to store, and what it changes. */
export interface MembershipAppend {
  conversationId: ConversationId;
  epoch: number;
  /** The encoded, signed entry (protocol/identity/membership-entry.ts). */
  entry: Uint8Array;
  /** Its hash (hex), the new head; `previousHash` is the head it must follow. */
  hash: string;
  previousHash: string;
  actor: UserId;
  /** The group after the entry (protocol `applyMembershipAction`): the store writes the diff. */
  after: GroupMembership;
  /** The group info ciphertext a `set-info` entry commits to. */
  infoCiphertext?: Uint8Array;
  now: number;
}

export interface ConversationsStore {
  get(id: ConversationId): Promise<ConversationRecord | undefined>;
  /** The current members (accounts deleted since included: the signed log names them). */
  members(id: ConversationId): Promise<MemberRecord[]>;
  /** A user's stays in a conversation, oldest first (none: never a member). */
  periods(id: ConversationId, userId: UserId): Promise<MemberPeriod[]>;
  /** The conversations a user is or was in, newest activity first. */
  listFor(userId: UserId): Promise<ConversationSummary[]>;
  /**
   * Creates a group from its verified `create` entry (epoch 0): the actor becomes its
   * owner. `exists` when the id is taken.
   */
  createGroup(input: MembershipAppend): Promise<"exists" | undefined>;
  /**
   * Appends a verified entry and applies it to the members, in one transaction that checks
   * the log head is still `previousHash` (`stale` otherwise: another change came first).
   */
  appendMembership(input: MembershipAppend): Promise<"stale" | undefined>;
  /** The log entries after `afterEpoch` (all of them with -1), oldest first. */
  membershipLog(id: ConversationId, afterEpoch: number): Promise<Uint8Array[]>;
}

/**
 * The drizzle schema: the single source of the database layout. `npm run db:generate`
 * turns a change here into a new numbered migration in migrations/ (never edit a landed one).
 *
 * Times are integers of milliseconds since the Unix epoch. Ids are UUIDv7 strings.
 * The server stores only what docs/PROTOCOL.md lists as stored in clear; everything a
 * person wrote is ciphertext (BLOB) produced on their devices.
 */
import {
  blob,
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const bytes = (name: string) => blob(name, { mode: "buffer" });
const epochMs = (name: string) => integer(name);

/** Accounts. A deleted account stays as a tombstone so its id is never reused. */
export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    /** 3–32 of [a-z0-9_.]; NULL once the account is deleted (tombstone). */
    username: text("username"),
    phone: text("phone"),
    email: text("email"),
    /** Account identity public key (Ed25519); NULL until the first device registers. */
    accountKey: bytes("account_key"),
    /** Display name, avatar reference and status text, encrypted under the profile key. */
    profileCiphertext: bytes("profile_ciphertext"),
    isAdmin: integer("is_admin", { mode: "boolean" }).notNull().default(false),
    createdAt: epochMs("created_at").notNull(),
    updatedAt: epochMs("updated_at").notNull(),
    lastSeenAt: epochMs("last_seen_at"),
    disabledAt: epochMs("disabled_at"),
    deletedAt: epochMs("deleted_at"),
    /** Who may see last_seen_at: everyone, contacts or nobody. */
    lastSeenVisibility: text("last_seen_visibility", { enum: ["everyone", "contacts", "nobody"] })
      .notNull()
      .default("contacts"),
    /** When the account identity was last reset (new account key). */
    identityResetAt: epochMs("identity_reset_at"),
  },
  (t) => [
    uniqueIndex("users_username_unique").on(t.username),
    uniqueIndex("users_phone_unique").on(t.phone),
    uniqueIndex("users_email_unique").on(t.email),
  ],
);

/** One row per device of an account; its keys are certified by the account key. */
export const devices = sqliteTable(
  "devices",
  {
    id: text("id").primaryKey(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    /** The device's X25519 identity public key. */
    identityKey: bytes("identity_key").notNull(),
    /** The account key's signature over this device (see docs/PROTOCOL.md). */
    certificate: bytes("certificate").notNull(),
    platform: text("platform", { enum: ["web", "cli", "desktop", "android", "ios"] }).notNull(),
    createdAt: epochMs("created_at").notNull(),
    lastActiveAt: epochMs("last_active_at"),
    revokedAt: epochMs("revoked_at"),
  },
  (t) => [index("devices_user_idx").on(t.userId)],
);

/**
 * Security-relevant events (admin actions, sign-ins, device changes). `details` is JSON
 * without secrets or user content.
 */
export const auditLog = sqliteTable(
  "audit_log",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    at: epochMs("at").notNull(),
    /** A user id, or `admin-cli`, or `system`. */
    actor: text("actor").notNull(),
    action: text("action").notNull(),
    target: text("target"),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>(),
  },
  (t) => [index("audit_log_at_idx").on(t.at), index("audit_log_action_idx").on(t.action, t.at)],
);

/**
 * Published prekeys of a device, each signed by the account key. One-time prekeys are
 * rows (not a JSON array as in the seed) so a claim hands a key out exactly once, even
 * with several server processes on one database.
 */
export const signedPrekeys = sqliteTable(
  "signed_prekeys",
  {
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    keyId: integer("key_id").notNull(),
    publicKey: bytes("public_key").notNull(),
    signature: bytes("signature").notNull(),
    createdAt: epochMs("created_at").notNull(),
    /** The whole signed prekey (protocol/identity/prekey.ts), as clients verify it. */
    encoded: bytes("encoded"),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.keyId] })],
);

export const oneTimePrekeys = sqliteTable(
  "one_time_prekeys",
  {
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    keyId: integer("key_id").notNull(),
    publicKey: bytes("public_key").notNull(),
    signature: bytes("signature").notNull(),
    /** The whole signed prekey, as clients verify it. */
    encoded: bytes("encoded"),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.keyId] })],
);

/** ML-KEM-1024 prekeys: one-time ones are claimed once; the last-resort one is reused. */
export const pqPrekeys = sqliteTable(
  "pq_prekeys",
  {
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    keyId: integer("key_id").notNull(),
    publicKey: bytes("public_key").notNull(),
    signature: bytes("signature").notNull(),
    lastResort: integer("last_resort", { mode: "boolean" }).notNull().default(false),
    createdAt: epochMs("created_at").notNull(),
    /** The whole signed prekey, as clients verify it. */
    encoded: bytes("encoded"),
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.keyId] })],
);

// ---- Accounts, devices and keys (migration 0002) -------------------------------------------

/**
 * Signed, versioned device lists (protocol/identity/device-list.ts), every version kept so
 * clients can follow the hash chain. The newest version is the one served.
 */
export const deviceLists = sqliteTable(
  "device_lists",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** The list's wire encoding, signature included. */
    encoded: bytes("encoded").notNull(),
    hash: bytes("hash").notNull(),
    createdAt: epochMs("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.version] })],
);

/** Device sign-in: the hash of each device's random secret, and its encrypted name. */
export const deviceSecrets = sqliteTable("device_secrets", {
  deviceId: text("device_id")
    .primaryKey()
    .references(() => devices.id, { onDelete: "cascade" }),
  /** SHA-256 of the 32-byte random secret (high entropy: no slow hash needed). */
  secretHash: text("secret_hash").notNull(),
  /** The device's name, encrypted by the account's devices (the server never reads it). */
  nameCiphertext: bytes("name_ciphertext"),
  /** Access tokens issued before this time are refused (refresh reuse, device removed). */
  tokensRevokedAt: epochMs("tokens_revoked_at"),
});

/** Rotating refresh tokens; a token used twice revokes its device's tokens. */
export const refreshTokens = sqliteTable(
  "refresh_tokens",
  {
    id: text("id").primaryKey(),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
    /** Set when exchanged for a new pair; a second use is reuse. */
    usedAt: epochMs("used_at"),
    revokedAt: epochMs("revoked_at"),
  },
  (t) => [
    uniqueIndex("refresh_tokens_hash_unique").on(t.tokenHash),
    index("refresh_tokens_device_idx").on(t.deviceId),
  ],
);

/**
 * Registration invites. Also the claim code of a user an admin created (forUserId) and the
 * one-time setup link of the first admin (admin = true).
 */
export const invites = sqliteTable(
  "invites",
  {
    id: text("id").primaryKey(),
    codeHash: text("code_hash").notNull(),
    createdBy: text("created_by").notNull(),
    note: text("note"),
    maxUses: integer("max_uses").notNull(),
    uses: integer("uses").notNull().default(0),
    forUserId: text("for_user_id").references(() => users.id, { onDelete: "cascade" }),
    admin: integer("admin", { mode: "boolean" }).notNull().default(false),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
    revokedAt: epochMs("revoked_at"),
  },
  (t) => [uniqueIndex("invites_code_hash_unique").on(t.codeHash)],
);

/** One-time codes sent by SMS or email: only an HMAC of the code (and of the address) is kept. */
export const otpChallenges = sqliteTable(
  "otp_challenges",
  {
    id: text("id").primaryKey(),
    /** HMAC of the normalized phone number or email address. */
    destinationHmac: text("destination_hmac").notNull(),
    codeHmac: text("code_hmac").notNull(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
    verifiedAt: epochMs("verified_at"),
  },
  (t) => [index("otp_challenges_destination_idx").on(t.destinationHmac, t.createdAt)],
);

/** TOTP second factor (registration lock). The secret must be readable to check codes. */
export const totp = sqliteTable("totp", {
  userId: text("user_id")
    .primaryKey()
    .references(() => users.id, { onDelete: "cascade" }),
  secret: text("secret").notNull(),
  createdAt: epochMs("created_at").notNull(),
  confirmedAt: epochMs("confirmed_at"),
});

/** Single-use recovery codes for TOTP, hashed. */
export const recoveryCodes = sqliteTable(
  "recovery_codes",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    codeHash: text("code_hash").notNull(),
    usedAt: epochMs("used_at"),
  },
  (t) => [primaryKey({ columns: [t.userId, t.codeHash] })],
);

/** One-time WebSocket tickets (browsers cannot send headers at upgrade). */
export const wsTickets = sqliteTable("ws_tickets", {
  ticketHash: text("ticket_hash").primaryKey(),
  deviceId: text("device_id")
    .notNull()
    .references(() => devices.id, { onDelete: "cascade" }),
  expiresAt: epochMs("expires_at").notNull(),
});

/** Relay of one provisioning envelope to a device being linked; the server cannot read it. */
export const provisioningSlots = sqliteTable("provisioning_slots", {
  id: text("id").primaryKey(),
  /** SHA-256 of the slot's read token: only the new device may read the envelope. */
  readerHash: text("reader_hash").notNull(),
  envelope: bytes("envelope"),
  createdAt: epochMs("created_at").notNull(),
  expiresAt: epochMs("expires_at").notNull(),
});

/** A user's contacts (nickname encrypted by the user's devices) and blocks. */
export const contacts = sqliteTable(
  "contacts",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    contactUserId: text("contact_user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    nicknameCiphertext: bytes("nickname_ciphertext"),
    blocked: integer("blocked", { mode: "boolean" }).notNull().default(false),
    createdAt: epochMs("created_at").notNull(),
    updatedAt: epochMs("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.contactUserId] })],
);

/** Usernames of deleted accounts, not reusable for 30 days. */
export const releasedUsernames = sqliteTable("released_usernames", {
  username: text("username").primaryKey(),
  releasedAt: epochMs("released_at").notNull(),
});

/** Server secrets shared by every node (JWT signing key, OTP HMAC key). */
export const serverSecrets = sqliteTable("server_secrets", {
  name: text("name").primaryKey(),
  value: bytes("value").notNull(),
  createdAt: epochMs("created_at").notNull(),
});

/**
 * Conversations: direct (one per pair of users; its id is derived from both user ids, so
 * both clients know it without asking) or group (membership in a signed, hash-chained log).
 * `lastSeq` is the newest message's sequence: the next message takes `lastSeq + 1` in the
 * same transaction, so sequences are dense and unique even with several server processes.
 */
export const conversations = sqliteTable("conversations", {
  id: text("id").primaryKey(),
  kind: text("kind", { enum: ["direct", "group"] }).notNull(),
  lastSeq: integer("last_seq").notNull().default(0),
  /** Groups: the newest membership log entry's epoch and hash (hex). */
  membershipEpoch: integer("membership_epoch"),
  logHeadHash: text("log_head_hash"),
  announcementsOnly: integer("announcements_only", { mode: "boolean" }).notNull().default(false),
  /** Groups: title, description and avatar, encrypted under the group key by a member. */
  infoCiphertext: bytes("info_ciphertext"),
  createdAt: epochMs("created_at").notNull(),
  updatedAt: epochMs("updated_at").notNull(),
});

/**
 * Who is in a conversation now, with which role (direct conversations: both `member`). A
 * deleted account keeps its row (the signed log still names it) but gets nothing.
 */
export const conversationMembers = sqliteTable(
  "conversation_members",
  {
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: ["owner", "admin", "member"] }).notNull(),
    joinedAt: epochMs("joined_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId] }),
    index("conversation_members_user_idx").on(t.userId),
  ],
);

/**
 * What each member, current or former, may read: one row per stay in the conversation,
 * from the first sequence after joining (and the membership epoch that added them) to the
 * last one before leaving (and the epoch that removed them). A member added again gets a
 * new period and keeps the old ones.
 */
export const memberPeriods = sqliteTable(
  "member_periods",
  {
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    fromSeq: integer("from_seq").notNull(),
    untilSeq: integer("until_seq"),
    fromEpoch: integer("from_epoch").notNull(),
    untilEpoch: integer("until_epoch"),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId, t.fromSeq] }),
    index("member_periods_user_idx").on(t.userId),
  ],
);

/**
 * A group's membership log (protocol/identity/membership-entry.ts), every entry signed by the
 * acting member's account key. `pos` orders changes for sync.
 */
export const membershipLog = sqliteTable(
  "membership_log",
  {
    pos: integer("pos").primaryKey({ autoIncrement: true }),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    epoch: integer("epoch").notNull(),
    entry: bytes("entry").notNull(),
    createdAt: epochMs("created_at").notNull(),
  },
  (t) => [uniqueIndex("membership_log_epoch_idx").on(t.conversationId, t.epoch)],
);

/**
 * Conversation messages: opaque sender-key ciphertext. `pos` (commit order, for sync) and
 * `seq` (per conversation) are assigned in the storing transaction; `id` is the client's
 * UUIDv7, so a retried send is stored once. Deleting for everyone or expiring erases the
 * ciphertext and keeps the row (a tombstone keeps the sequence dense).
 */
export const messages = sqliteTable(
  "messages",
  {
    pos: integer("pos").primaryKey({ autoIncrement: true }),
    id: text("id").notNull(),
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    seq: integer("seq").notNull(),
    senderUserId: text("sender_user_id").notNull(),
    senderDeviceId: text("sender_device_id").notNull(),
    ciphertext: bytes("ciphertext"),
    size: integer("size").notNull(),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at"),
    deletedAt: epochMs("deleted_at"),
  },
  (t) => [
    uniqueIndex("messages_id_idx").on(t.id),
    uniqueIndex("messages_conversation_seq_idx").on(t.conversationId, t.seq),
    index("messages_conversation_pos_idx").on(t.conversationId, t.pos),
    index("messages_expires_idx").on(t.expiresAt),
  ],
);

/**
 * Key headers carried by a message that starts a new sender key: one per recipient device,
 * deleted once that device acknowledges the message.
 */
export const keyHeaders = sqliteTable(
  "key_headers",
  {
    messagePos: integer("message_pos")
      .notNull()
      .references(() => messages.pos, { onDelete: "cascade" }),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    header: bytes("header").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.messagePos, t.deviceId] }),
    index("key_headers_device_idx").on(t.deviceId, t.messagePos),
  ],
);

/** How far each device has received each conversation (one row, one write per ack). */
export const deviceReceipts = sqliteTable(
  "device_receipts",
  {
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    deliveredSeq: integer("delivered_seq").notNull(),
    updatedAt: epochMs("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.deviceId] })],
);

/**
 * Per user and conversation: delivered up to (any of their devices) and read up to. Both
 * only move forward. `pos` (from the `receipts` stream counter) orders changes for sync.
 */
export const userReceipts = sqliteTable(
  "user_receipts",
  {
    conversationId: text("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    deliveredSeq: integer("delivered_seq").notNull().default(0),
    readSeq: integer("read_seq").notNull().default(0),
    pos: integer("pos").notNull(),
    updatedAt: epochMs("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.conversationId, t.userId] }),
    index("user_receipts_pos_idx").on(t.pos),
  ],
);

/** Monotonic counters for sync streams that update rows in place (receipts). */
export const streamCounters = sqliteTable("stream_counters", {
  name: text("name").primaryKey(),
  value: integer("value").notNull(),
});

/**
 * To-device envelopes (key re-share requests and answers, call keys): a per-device inbox of
 * opaque pairwise ciphertext, deleted once acknowledged, expired after 30 days.
 */
export const inbox = sqliteTable(
  "inbox",
  {
    pos: integer("pos").primaryKey({ autoIncrement: true }),
    deviceId: text("device_id")
      .notNull()
      .references(() => devices.id, { onDelete: "cascade" }),
    senderUserId: text("sender_user_id").notNull(),
    senderDeviceId: text("sender_device_id").notNull(),
    envelope: bytes("envelope").notNull(),
    createdAt: epochMs("created_at").notNull(),
    expiresAt: epochMs("expires_at").notNull(),
  },
  (t) => [
    index("inbox_device_idx").on(t.deviceId, t.pos),
    index("inbox_expires_idx").on(t.expiresAt),
  ],
);

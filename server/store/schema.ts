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
  },
  (t) => [primaryKey({ columns: [t.deviceId, t.keyId] })],
);

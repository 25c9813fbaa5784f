import { and, asc, count, eq, gt, inArray, isNull, or, sql } from "drizzle-orm";
import { normalizeEmail } from "../../../protocol/api/accounts.ts";
import type {
  AccountRecord,
  AccountsStore,
  AccountWriteError,
} from "../../domain/ports/accounts.ts";
import type { DeviceId, UserId } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import {
  contacts,
  deviceLists,
  devices,
  invites,
  recoveryCodes,
  releasedUsernames,
  totp,
  users,
} from "../schema.ts";
import { isUniqueViolation } from "../sql-errors.ts";
import {
  appendDeviceList,
  consumeProof,
  insertDevice,
  refusalOf,
  usernameQuarantined,
  WriteRefusal,
} from "./account-writes.ts";
import { spendRecoveryCode } from "./totp-store.ts";

/** Quarantine of a deleted account's username. */
export const USERNAME_QUARANTINE_MS = 30 * 24 * 60 * 60 * 1000;

type UserRow = typeof users.$inferSelect;
const bytesOrNull = (b: Uint8Array | null) => (b ? new Uint8Array(b) : null);

const toAccount = (r: UserRow): AccountRecord => ({
  id: r.id as UserId,
  username: r.username,
  accountKey: bytesOrNull(r.accountKey),
  isAdmin: r.isAdmin,
  phone: r.phone,
  email: r.email,
  profileCiphertext: bytesOrNull(r.profileCiphertext),
  lastSeenAt: r.lastSeenAt,
  lastSeenVisibility: r.lastSeenVisibility,
  disabledAt: r.disabledAt,
  deletedAt: r.deletedAt,
  createdAt: r.createdAt,
});

/** A unique violation on users: the username, or else the id (or phone/email) is taken. */
const uniqueRefusal = (err: unknown): WriteRefusal | undefined => {
  if (!isUniqueViolation(err)) return undefined;
  const text = `${(err as Error).message} ${((err as Error).cause as Error | undefined)?.message ?? ""}`;
  return new WriteRefusal(text.includes("users.username") ? "username_taken" : "user_exists");
};

export function accountsStore(database: Database): AccountsStore {
  const one = async (where: ReturnType<typeof eq>) => {
    const [row] = await database.db.select().from(users).where(where).limit(1);
    return row ? toAccount(row) : undefined;
  };
  return {
    createAccount(input) {
      return refusalOf(() =>
        database.write(async (tx) => {
          await consumeProof(tx, input.proof, input.now);
          if (
            await usernameQuarantined(tx, input.user.username, input.now, USERNAME_QUARANTINE_MS)
          ) {
            throw new WriteRefusal("username_taken");
          }
          try {
            await tx.insert(users).values({
              id: input.user.id,
              username: input.user.username,
              accountKey: Buffer.from(input.user.accountKey),
              isAdmin: input.user.isAdmin,
              phone: input.user.phone,
              email: input.user.email === null ? null : normalizeEmail(input.user.email),
              createdAt: input.now,
              updatedAt: input.now,
            });
          } catch (err) {
            throw uniqueRefusal(err) ?? err;
          }
          await insertDevice(tx, input.device, input.keys, input.now);
          await appendDeviceList(tx, input.user.id, input.deviceList, undefined, input.now);
        }),
      ) as Promise<AccountWriteError | undefined>;
    },

    async resetIdentity(input) {
      let removedDeviceIds: DeviceId[] = [];
      const refused = await refusalOf(() =>
        database.write(async (tx) => {
          await consumeProof(tx, input.proof, input.now);
          // Spent here, with the reset: a reset refused on any ground keeps its recovery code.
          if (
            input.recoveryCodeHash !== undefined &&
            !(await spendRecoveryCode(tx, input.userId, input.recoveryCodeHash, input.now))
          ) {
            throw new WriteRefusal("second_factor_invalid");
          }
          const changes: Partial<typeof users.$inferInsert> = {
            accountKey: Buffer.from(input.accountKey),
            identityResetAt: input.now,
            updatedAt: input.now,
          };
          if (input.username) changes.username = input.username;
          if (input.isAdmin) changes.isAdmin = true;
          try {
            const updated = await tx
              .update(users)
              .set(changes)
              .where(and(eq(users.id, input.userId), isNull(users.deletedAt)))
              .returning({ id: users.id });
            if (updated.length === 0) throw new WriteRefusal("not_found");
          } catch (err) {
            throw uniqueRefusal(err) ?? err;
          }
          // Every device of the old identity goes, with its keys, secret and tokens; the
          // device-list chain restarts under the new account key.
          const removed = await tx
            .delete(devices)
            .where(eq(devices.userId, input.userId))
            .returning({ id: devices.id });
          removedDeviceIds = removed.map((d) => d.id as DeviceId);
          await tx.delete(deviceLists).where(eq(deviceLists.userId, input.userId));
          await insertDevice(tx, input.device, input.keys, input.now);
          await appendDeviceList(tx, input.userId, input.deviceList, undefined, input.now);
        }),
      );
      return refused ?? { removedDeviceIds };
    },

    createPendingAccount({ id, username, isAdmin, now, claim }) {
      return refusalOf(() =>
        database.write(async (tx) => {
          if (await usernameQuarantined(tx, username, now, USERNAME_QUARANTINE_MS))
            throw new WriteRefusal("username_taken");
          try {
            await tx
              .insert(users)
              .values({ id, username, isAdmin, createdAt: now, updatedAt: now });
          } catch (err) {
            throw uniqueRefusal(err) ?? err;
          }
          await tx.insert(invites).values(claim);
        }),
      ) as Promise<AccountWriteError | undefined>;
    },

    findById: (id) => one(eq(users.id, id)),
    findByUsername: (username) => one(eq(users.username, username)),
    async findByIds(ids) {
      if (ids.length === 0) return [];
      const rows = await database.db.select().from(users).where(inArray(users.id, ids));
      return rows.map(toAccount);
    },
    async listAfter(afterId, limit) {
      const rows = await database.db
        .select()
        .from(users)
        .where(afterId === undefined ? undefined : gt(users.id, afterId))
        .orderBy(asc(users.id))
        .limit(limit);
      return rows.map(toAccount);
    },
    async findByContact({ phone, email }) {
      if (!phone && !email) return undefined;
      const [row] = await database.db
        .select()
        .from(users)
        .where(
          or(
            phone ? eq(users.phone, phone) : sql`0`,
            email ? eq(users.email, normalizeEmail(email)) : sql`0`,
          ),
        )
        .limit(1);
      return row ? toAccount(row) : undefined;
    },

    async searchUsernames(query, limit) {
      // The trigram index needs 3 characters; the phrase quotes keep FTS syntax out.
      const phrase = `"${query.replaceAll('"', '""')}"`;
      const rows = (await database.db.all(sql`
        SELECT u.id AS id, u.username AS username FROM users_fts f JOIN users u ON u.rowid = f.rowid
        WHERE users_fts MATCH ${phrase} AND u.deleted_at IS NULL AND u.disabled_at IS NULL
        ORDER BY length(u.username), u.username LIMIT ${limit}`)) as {
        id: string;
        username: string;
      }[];
      return rows.map((r) => ({ id: r.id as UserId, username: r.username }));
    },

    async setProfile(id, ciphertext, now) {
      await database.write((tx) =>
        tx
          .update(users)
          .set({ profileCiphertext: Buffer.from(ciphertext), updatedAt: now })
          .where(and(eq(users.id, id), isNull(users.deletedAt))),
      );
    },
    async setLastSeenVisibility(id, visibility) {
      await database.write((tx) =>
        tx
          .update(users)
          .set({ lastSeenVisibility: visibility })
          .where(and(eq(users.id, id), isNull(users.deletedAt))),
      );
    },
    async touchLastSeen(id, deviceId, now) {
      await database.write(async (tx) => {
        // A deleted account's sockets close after its deletion: its tombstone stays blank.
        await tx
          .update(users)
          .set({ lastSeenAt: now })
          .where(and(eq(users.id, id), isNull(users.deletedAt)));
        await tx.update(devices).set({ lastActiveAt: now }).where(eq(devices.id, deviceId));
      });
    },

    async deleteAccount(id, now) {
      await database.write(async (tx) => {
        const [row] = await tx
          .select({ username: users.username })
          .from(users)
          .where(eq(users.id, id));
        if (row?.username) {
          await tx
            .insert(releasedUsernames)
            .values({ username: row.username, releasedAt: now })
            .onConflictDoUpdate({ target: releasedUsernames.username, set: { releasedAt: now } });
        }
        await tx.delete(devices).where(eq(devices.userId, id));
        await tx.delete(deviceLists).where(eq(deviceLists.userId, id));
        await tx.delete(recoveryCodes).where(eq(recoveryCodes.userId, id));
        await tx.delete(totp).where(eq(totp.userId, id));
        await tx
          .delete(contacts)
          .where(or(eq(contacts.userId, id), eq(contacts.contactUserId, id)));
        await tx
          .update(users)
          .set({
            username: null,
            phone: null,
            email: null,
            accountKey: null,
            profileCiphertext: null,
            lastSeenAt: null,
            isAdmin: false,
            deletedAt: now,
            updatedAt: now,
          })
          .where(eq(users.id, id));
      });
    },

    async countAdmins() {
      const [row] = await database.db
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.isAdmin, true), isNull(users.deletedAt)));
      return row?.n ?? 0;
    },
  };
}

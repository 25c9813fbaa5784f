import { eq } from "drizzle-orm";
import {
  type User,
  type UserId,
  UsernameTakenError,
  type UsersRepository,
} from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { users } from "../schema.ts";
import { isUniqueViolation } from "../sql-errors.ts";

type UserRow = typeof users.$inferSelect;

const toUser = (row: UserRow): User => ({
  id: row.id as UserId,
  username: row.username,
  isAdmin: row.isAdmin,
  accountKey: row.accountKey ? new Uint8Array(row.accountKey) : null,
  createdAt: row.createdAt,
  disabledAt: row.disabledAt,
  deletedAt: row.deletedAt,
});

export function usersRepository(database: Database): UsersRepository {
  return {
    async create({ username, isAdmin = false, now }) {
      const row = {
        id: Bun.randomUUIDv7(),
        username,
        isAdmin,
        createdAt: now,
        updatedAt: now,
      };
      try {
        const [created] = await database.write((tx) => tx.insert(users).values(row).returning());
        return toUser(created!);
      } catch (err) {
        if (isUniqueViolation(err)) throw new UsernameTakenError(username);
        throw err;
      }
    },
    async findById(id) {
      const [row] = await database.db.select().from(users).where(eq(users.id, id)).limit(1);
      return row ? toUser(row) : undefined;
    },
    async findByUsername(username) {
      const [row] = await database.db
        .select()
        .from(users)
        .where(eq(users.username, username))
        .limit(1);
      return row ? toUser(row) : undefined;
    },
  };
}

import { and, desc, eq, gte, type SQL } from "drizzle-orm";
import type { AuditRepository } from "../../domain/ports.ts";
import type { Database } from "../database.ts";
import { auditLog } from "../schema.ts";

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

export function auditRepository(database: Database): AuditRepository {
  return {
    async append(entry) {
      await database.write((tx) => tx.insert(auditLog).values(entry));
    },
    async list(filter = {}) {
      const where: SQL[] = [];
      if (filter.action) where.push(eq(auditLog.action, filter.action));
      if (filter.actor) where.push(eq(auditLog.actor, filter.actor));
      if (filter.since !== undefined) where.push(gte(auditLog.at, filter.since));
      const limit = Math.min(Math.max(filter.limit ?? AUDIT_DEFAULT_LIMIT, 1), AUDIT_MAX_LIMIT);
      return database.db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.at), desc(auditLog.id))
        .limit(limit);
    },
  };
}

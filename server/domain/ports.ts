/**
 * What the domain needs from storage, as interfaces. server/store implements them with
 * drizzle; domain services and tests depend on these, never on SQL.
 */

import type { Platform } from "../../protocol/api/accounts.ts";

/** The protocol's branded ids, so a device id is never passed where a user id is expected. */
export type { ConversationId, DeviceId, UserId } from "../../protocol/identity/ids.ts";

export type DevicePlatform = Platform;

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown> | null;
}

export interface AuditFilter {
  action?: string;
  actor?: string;
  since?: number;
  /** Newest first; at most this many (default 100, at most 1000). */
  limit?: number;
}

export interface AuditRepository {
  append(entry: Omit<AuditEntry, "id">): Promise<void>;
  list(filter?: AuditFilter): Promise<AuditEntry[]>;
}

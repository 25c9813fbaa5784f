import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import { isDirectConversationId } from "../../protocol/messages/conversation-id.ts";
import type { Config } from "../config/schema.ts";
import { membershipService } from "../domain/messaging/membership.ts";
import { messageService } from "../domain/messaging/messages.ts";
import { presenceService } from "../domain/messaging/presence.ts";
import { startSweeper } from "../domain/messaging/sweeper.ts";
import { syncService } from "../domain/messaging/sync.ts";
import { toDeviceService } from "../domain/messaging/to-device.ts";
import type { EventBus } from "../domain/ports/events.ts";
import type { PresenceStore } from "../domain/ports/presence.ts";
import type { PushNotifier } from "../domain/ports/push.ts";
import type { Logger } from "../lib/log.ts";
import type { Database } from "../store/database.ts";
import { accountsStore } from "../store/repos/accounts.ts";
import { contactsStore } from "../store/repos/contacts-store.ts";
import { conversationsStore } from "../store/repos/conversations-store.ts";
import { devicesStore } from "../store/repos/devices-store.ts";
import { inboxStore } from "../store/repos/inbox-store.ts";
import { messagesStore } from "../store/repos/messages-store.ts";
import { receiptsStore } from "../store/repos/receipts-store.ts";
import { syncStore } from "../store/repos/sync-store.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_CHECKED_DIRECT_IDS = 100_000;

/** Builds the messaging services on a database, and starts the sweeper of expired data. */
export function messagingModule(deps: {
  config: Config;
  database: Database;
  ctx: ProtocolContext;
  events: EventBus;
  log: Logger;
  /** Who is connected (createPresenceStore: this node, or every node through Redis). */
  presenceStore: PresenceStore;
  /** Content-free pushes to members with no connected device; none by default. */
  push?: PushNotifier;
}) {
  const { config, database, ctx, events } = deps;
  const now = ctx.now;
  const conversations = conversationsStore(database);
  const messages = messagesStore(database);
  const inbox = inboxStore(database);
  const contacts = contactsStore(database);
  const checkedDirectIds = new Map<string, boolean>();
  const accounts = accountsStore(database);
  const presence = presenceService({
    store: deps.presenceStore,
    accounts,
    contacts,
    events,
    now,
  });
  const sweeper = startSweeper({
    messages,
    inbox,
    eraseWalCopies: () => database.eraseWalCopies(),
    log: deps.log,
    intervalMs: config.messages.sweep_interval_s * 1000,
    now,
  });
  return {
    messages: messageService({
      messages,
      receipts: receiptsStore(database),
      conversations,
      events,
      maxCiphertextBytes: config.messages.max_ciphertext_bytes,
      maxKeyHeaderBytes: config.messages.max_key_header_bytes,
      isDirectConversation: (id, a, b) => {
        // A direct id is a SHA-256 of both user ids: remember the triples already checked.
        const key = `${id}|${a}|${b}`;
        let valid = checkedDirectIds.get(key);
        if (valid === undefined) {
          valid = isDirectConversationId(id, a, b);
          if (checkedDirectIds.size >= MAX_CHECKED_DIRECT_IDS) checkedDirectIds.clear();
          checkedDirectIds.set(key, valid);
        }
        return valid;
      },
      isBlocked: (userId, other) => contacts.isBlocked(userId, other),
      eraseWalCopies: () => database.eraseWalCopies(),
      now,
      online: presence.online,
      push: deps.push,
      log: deps.log,
    }),
    membership: membershipService({
      ctx,
      conversations,
      accounts,
      events,
    }),
    presence,
    toDevice: toDeviceService({
      inbox,
      devices: devicesStore(database),
      events,
      ttlMs: config.messages.to_device_ttl_days * DAY_MS,
      now,
    }),
    sync: syncService({ sync: syncStore(database) }),
    sweeper,
  };
}

export type MessagingModule = ReturnType<typeof messagingModule>;

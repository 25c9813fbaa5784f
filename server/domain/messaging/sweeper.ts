import type { Logger } from "../../lib/log.ts";
import type { InboxStore } from "../ports/inbox.ts";
import type { MessagesStore } from "../ports/messages.ts";

/**
 * Erases what has run out of time, every `intervalMs`: the ciphertext of disappearing
 * messages (a tombstone keeps the sequence) and expired to-device envelopes. One sweep runs
 * at a time; `stop` waits for a running one.
 */
export function startSweeper(deps: {
  messages: MessagesStore;
  inbox: InboxStore;
  /** Empties the database's WAL after erasing, so no copy of the ciphertext stays there. */
  eraseWalCopies: () => Promise<void>;
  log: Logger;
  intervalMs: number;
  now: () => number;
}) {
  let running: Promise<void> | undefined;
  const sweep = async () => {
    try {
      const now = deps.now();
      const messages = await deps.messages.eraseExpired(now);
      const envelopes = await deps.inbox.eraseExpired(now);
      if (messages > 0) await deps.eraseWalCopies();
      if (messages + envelopes > 0) deps.log.info("swept expired", { messages, envelopes });
    } catch (err) {
      deps.log.warn("sweep failed", { error: err });
    }
  };
  const timer = setInterval(() => {
    running ??= sweep().finally(() => {
      running = undefined;
    });
  }, deps.intervalMs);
  return {
    /** Runs one sweep now (tests, and shutdown-free callers). */
    sweepNow: () => (running ??= sweep().finally(() => (running = undefined))),
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

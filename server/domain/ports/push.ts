import type { UserId } from "../ports.ts";

/** What the notifier is told about a push: never content, never the sender. */
export interface PushHint {
  /**
   * For the notifier itself, not for the payload: to coalesce pushes per conversation (an
   * opaque topic derived from it) or, later, to honour a per-conversation mute.
   */
  conversationId: string;
}

/**
 * Wakes the devices of users who have no connected device, so they sync. Content-free: the
 * payload a push service carries (Web Push, FCM, APNs) says only that there is something
 * to fetch — no text, no sender, no conversation, no ciphertext — and the device then
 * fetches over its own authenticated connection (GET /sync). Best effort: a lost push costs
 * nothing but latency, since every device catches up from its sync cursor anyway.
 *
 * Implementations: none yet beyond `noPushNotifier`; Web Push (with the web client) and
 * FCM/APNs (later) will implement it.
 */
export interface PushNotifier {
  notify(userIds: readonly UserId[], hint: PushHint): Promise<void>;
}

/** The default until a push service is configured: sends nothing. */
export const noPushNotifier: PushNotifier = { notify: async () => {} };

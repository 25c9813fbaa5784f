/**
 * Named limits of pairwise sessions. The anchors are libsignal's: it keeps 2,000 skipped
 * message keys per chain, 5 receiving chains and 40 archived sessions, and rejects a jump of
 * more than 25,000 messages in one chain.
 */

/** Skipped message keys kept per receiving chain; the oldest are dropped beyond it. */
export const MAX_SKIPPED_KEYS_PER_CHAIN = 2_000;

/** Receiving chains kept per session (older ones, and their skipped keys, are dropped). */
export const MAX_RECEIVING_CHAINS = 5;

/** Skipped keys kept per session in total (every chain at its cap). */
export const MAX_SKIPPED_KEYS_TOTAL = MAX_SKIPPED_KEYS_PER_CHAIN * MAX_RECEIVING_CHAINS;

/** A message further ahead than this in one chain is refused (no 25,000 HMACs for it). */
export const MAX_FORWARD_JUMP = 25_000;

/** Previous session states kept per remote device, tried after the current one. */
export const MAX_ARCHIVED_STATES = 40;

/** Largest plaintext a pairwise message carries (to-device payloads are small). */
export const MAX_PAIRWISE_PLAINTEXT_BYTES = 256 * 1024;

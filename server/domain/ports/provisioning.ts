/** Provisioning slots that relay a sealed envelope to a new device (accounts/provisioning.ts). */
export interface ProvisioningStore {
  create(input: { id: string; readerHash: string; now: number; expiresAt: number }): Promise<void>;
  /** Puts the envelope once; false when the slot is unknown, expired or already filled. */
  fill(id: string, envelope: Uint8Array, now: number): Promise<boolean>;
  /**
   * A live slot's reader hash and whether its envelope came in: a read only (no write
   * transaction), for waiting on the slot. Undefined when unknown or expired.
   */
  peek(id: string, now: number): Promise<{ readerHash: string; filled: boolean } | undefined>;
  /**
   * Takes the envelope and deletes the slot in one statement, so only one reader gets it;
   * undefined when the slot is unknown, expired or still empty.
   */
  take(id: string, now: number): Promise<Uint8Array | undefined>;
  /** Deletes expired slots. */
  sweep(now: number): Promise<void>;
}

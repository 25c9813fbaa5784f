import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { ProvisioningStore } from "../ports/directory.ts";
import { randomToken, sha256Hex } from "./secrets.ts";

/** The link code expires with its slot (the issue: 10 minutes). */
export const PROVISIONING_TTL_MS = 10 * 60 * 1000;
export const MAX_PROVISIONING_ENVELOPE_BYTES = 1024 * 1024;

/**
 * The relay of one provisioning envelope to a device being linked. The new device opens a
 * slot and shows its id with its link code (which carries its full ephemeral public key);
 * the existing device, signed in, puts the sealed envelope there; the new device, holding
 * the slot's read token, takes it. The server sees only ciphertext and cannot answer for
 * the new device: it never learns the key the envelope is sealed to.
 */
export function provisioningService(deps: { store: ProvisioningStore; now: () => number }) {
  return {
    async open(): Promise<{ slotId: string; readToken: string; expiresAt: number }> {
      const slotId = crypto.randomUUID();
      const readToken = randomToken(24);
      const now = deps.now();
      await deps.store.sweep(now);
      await deps.store.create({
        id: slotId,
        readerHash: await sha256Hex(readToken),
        now,
        expiresAt: now + PROVISIONING_TTL_MS,
      });
      return { slotId, readToken, expiresAt: now + PROVISIONING_TTL_MS };
    },

    async put(slotId: string, envelope: string): Promise<void> {
      const bytes = fromBase64Url(envelope, "body.envelope");
      if (!(await deps.store.fill(slotId, bytes, deps.now())))
        throw new ParleyError("provisioning_not_found");
    },

    /** The envelope, or undefined while the existing device has not sent it yet. */
    async take(slotId: string, readToken: string): Promise<string | undefined> {
      const taken = await deps.store.take(slotId, await sha256Hex(readToken), deps.now());
      if (taken === "not_found") throw new ParleyError("provisioning_not_found");
      return taken === "empty" ? undefined : toBase64Url(taken);
    },
  };
}

export type ProvisioningService = ReturnType<typeof provisioningService>;

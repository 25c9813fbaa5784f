import { fromBase64Url, toBase64Url } from "../../../protocol/api/base64.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { ProvisioningStore } from "../ports/provisioning.ts";
import { randomToken, sameDigest, sha256Hex } from "./secrets.ts";

/** The link code expires with its slot (the issue: 10 minutes). */
export const PROVISIONING_TTL_MS = 10 * 60 * 1000;
export const MAX_PROVISIONING_ENVELOPE_BYTES = 1024 * 1024;
/**
 * A waiting reader is woken at once by a PUT on this node; an envelope put through another
 * node is seen by re-reading the slot this often (a read, never a write transaction).
 */
export const PROVISIONING_POLL_MS = 1000;

/** The one reader waiting on a slot on this node. */
interface SlotWaiter {
  /** Set by a wake that came while the reader was not paused, so it is not lost. */
  woken: boolean;
  /** A newer GET for the same slot replaced this one: it ends with nothing. */
  replaced: boolean;
  /** Ends the current pause, if any. */
  resume: (() => void) | undefined;
}

/** Ends the waiter's pause now, or its next one at once. */
function wake(waiter: SlotWaiter) {
  waiter.woken = true;
  waiter.resume?.();
}

/** Sleeps up to `ms`, or until the waiter is woken or the request is abandoned. */
function pause(waiter: SlotWaiter, ms: number, signal: AbortSignal | undefined) {
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      waiter.resume = undefined;
      waiter.woken = false;
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (waiter.woken || signal?.aborted) return done();
    waiter.resume = done;
    signal?.addEventListener("abort", done);
  });
}

/**
 * The relay of one provisioning envelope to a device being linked. The new device opens a
 * slot and shows its id with its link code (which carries its full ephemeral public key);
 * the existing device, signed in, puts the sealed envelope there; the new device, holding
 * the slot's read token, takes it. The server sees only ciphertext and cannot answer for
 * the new device: it never learns the key the envelope is sealed to.
 */
export function provisioningService(deps: {
  store: ProvisioningStore;
  now: () => number;
  pollMs?: number;
}) {
  const pollMs = deps.pollMs ?? PROVISIONING_POLL_MS;
  const waiters = new Map<string, SlotWaiter>();

  /** Registers a reader as the slot's only waiter on this node, ending the previous one. */
  function waitOn(slotId: string): SlotWaiter {
    const previous = waiters.get(slotId);
    if (previous) {
      previous.replaced = true;
      wake(previous);
    }
    const waiter: SlotWaiter = { woken: false, replaced: false, resume: undefined };
    waiters.set(slotId, waiter);
    return waiter;
  }

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
      const waiter = waiters.get(slotId);
      if (waiter) wake(waiter);
    },

    /**
     * The envelope, or undefined when none came within `waitMs` (real time: the injected
     * clock only dates the slot), when the request was abandoned (`signal`), or when a newer
     * reader of the same slot replaced this one (one waiter per slot: a client that retries
     * after losing its connection must not be refused while its old request hangs on).
     * Waiting only reads the slot; the one write is the take of a stored envelope.
     */
    async take(
      slotId: string,
      readToken: string,
      options: { waitMs: number; signal?: AbortSignal },
    ): Promise<string | undefined> {
      const readerHash = await sha256Hex(readToken);
      const until = performance.now() + options.waitMs;
      let waiter: SlotWaiter | undefined;
      try {
        for (;;) {
          const slot = await deps.store.peek(slotId, deps.now());
          if (!slot || !sameDigest(slot.readerHash, readerHash))
            throw new ParleyError("provisioning_not_found");
          if (slot.filled) {
            const envelope = await deps.store.take(slotId, deps.now());
            // Another reader (through another node) took it between the read and here.
            if (!envelope) throw new ParleyError("provisioning_not_found");
            return toBase64Url(envelope);
          }
          const left = until - performance.now();
          if (left <= 0 || options.signal?.aborted || waiter?.replaced) return undefined;
          if (!waiter) {
            // Only a reader with the token may wait (and replace another); read the slot once
            // more now that a PUT would wake us, so one that came just before is not missed.
            waiter = waitOn(slotId);
            continue;
          }
          await pause(waiter, Math.min(left, pollMs), options.signal);
          // Abandoned or replaced: leave the envelope to the reader still there.
          if (options.signal?.aborted || waiter.replaced) return undefined;
        }
      } finally {
        if (waiter && waiters.get(slotId) === waiter) waiters.delete(slotId);
      }
    },
  };
}

export type ProvisioningService = ReturnType<typeof provisioningService>;

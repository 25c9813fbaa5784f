import { systemClock, systemRng } from "../../protocol/crypto/bytes.ts";
import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import { nativePrimitives } from "../../protocol/crypto/native.ts";
import { ApiClient } from "../../sdk/api-client.ts";
import type { HttpTransport } from "../../sdk/transport.ts";

/** Bun's fetch as the sdk's transport. */
export const fetchTransport: HttpTransport = (url, init) => fetch(url, init);

/** An sdk client for a running server. */
export const apiClient = (url: string) => new ApiClient(url, fetchTransport);

/** A real protocol context (native primitives, system randomness and clock). */
export async function realContext(): Promise<ProtocolContext> {
  return { prims: (await nativePrimitives())!, rng: systemRng, now: systemClock };
}

/** Small prekey sets keep tests fast; the counts do not change what is tested. */
export const FEW_PREKEYS = { oneTime: 5, pqOneTime: 1 };

import { ParleyError } from "../errors.ts";

/** A function returning `n` fresh random bytes. Injected, so tests are deterministic. */
export type Rng = (n: number) => Uint8Array;

/** Milliseconds since the Unix epoch. Injected, so tests are deterministic. */
export type Clock = () => number;

interface CryptoGlobal {
  getRandomValues<T extends Uint8Array>(array: T): T;
}

/** The runtime's CSPRNG (WebCrypto getRandomValues, in Bun and browsers). */
export const systemRng: Rng = (n) => {
  const out = new Uint8Array(n);
  const c = (globalThis as { crypto?: CryptoGlobal }).crypto;
  if (!c) throw new Error("no crypto.getRandomValues in this runtime");
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < n; i += 65_536) c.getRandomValues(out.subarray(i, Math.min(n, i + 65_536)));
  return out;
};

export const systemClock: Clock = () => Date.now();

/**
 * Checks that `value` is a Uint8Array of exactly `length` bytes (or any length when
 * omitted), naming the field in the error: `'identityKey' must be 32 bytes`.
 */
export function expectBytes(value: unknown, length: number | undefined, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new ParleyError("invalid_key", `'${name}' must be bytes`, { field: name });
  }
  if (length !== undefined && value.length !== length) {
    throw new ParleyError("invalid_key", `'${name}' must be ${length} bytes`, {
      field: name,
      detail: `got ${value.length}`,
    });
  }
  return value;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid sequences (never replacing them). */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) throw new Error("not hex");
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Big-endian unsigned 64-bit encoding of a safe integer (counters, times). */
export function u64be(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError("u64be needs a safe non-negative integer");
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(n));
  return out;
}

export function u32be(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Overwrites secret bytes once they are no longer needed (best effort in a GC runtime). */
export function wipe(...secrets: Uint8Array[]): void {
  for (const s of secrets) s.fill(0);
}

import { fromUtf8, utf8 } from "../crypto/bytes.ts";
import { ParleyError } from "../errors.ts";

/**
 * Parley's binary encoding. Every encoded object starts with a format version byte and a
 * type byte (`WireType`), then its fields in a fixed order:
 *   u8        one byte
 *   varint    unsigned LEB128, at most 8 bytes, value ≤ 2^53 − 1, minimal encoding only
 *   fixed(n)  exactly n bytes (keys, signatures, ids)
 *   bytes     varint length, then that many bytes; each field has a maximum length
 *   string    like bytes, UTF-8, invalid sequences rejected
 * A decoder consumes the whole input: a missing or extra byte is an error. Every decoding
 * failure is a ParleyError `malformed_message` (the detail names the field, for debug logs).
 */
export const WIRE_VERSION = 1;

/** Type bytes; never reuse a retired value. */
export const WireType = {
  prekeyMessage: 0x01,
  ratchetMessage: 0x02,
  senderKeyMessage: 0x03,
  senderKeyDistribution: 0x04,
  keyHeader: 0x05,
  provisioningEnvelope: 0x06,
  provisioningMessage: 0x07,
  deviceCertificate: 0x08,
  signedPrekey: 0x09,
  deviceList: 0x0a,
  membershipEntry: 0x0b,
  sessionRecord: 0x0c,
  senderKeyRecord: 0x0d,
  attachmentPointer: 0x0e,
  safetyNumberCode: 0x0f,
  keyHeaderContent: 0x10,
  ownSenderKey: 0x11,
  profileContent: 0x12,
  deviceName: 0x13,
  contactNickname: 0x14,
  messageContent: 0x15,
} as const;
export type WireType = (typeof WireType)[keyof typeof WireType];

const MAX_VARINT_BYTES = 8;

function malformed(what: string, detail: string): ParleyError {
  return new ParleyError("malformed_message", undefined, { detail: `${what}: ${detail}` });
}

/** Builds one encoded object; see the module comment for the field encodings. */
export class WireWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  constructor(type: WireType) {
    this.u8(WIRE_VERSION).u8(type);
  }

  private push(bytes: Uint8Array): this {
    this.chunks.push(bytes);
    this.length += bytes.length;
    return this;
  }

  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 255) throw new RangeError(`u8 out of range: ${n}`);
    return this.push(Uint8Array.of(n));
  }

  varint(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint out of range: ${n}`);
    const out: number[] = [];
    let v = n;
    do {
      let b = v % 128;
      v = Math.floor(v / 128);
      if (v > 0) b |= 0x80;
      out.push(b);
    } while (v > 0);
    return this.push(Uint8Array.from(out));
  }

  fixed(bytes: Uint8Array, length: number, name: string): this {
    if (bytes.length !== length) throw new RangeError(`'${name}' must be ${length} bytes`);
    return this.push(bytes);
  }

  bytes(bytes: Uint8Array, max: number, name: string): this {
    if (bytes.length > max) throw new RangeError(`'${name}' longer than ${max} bytes`);
    return this.varint(bytes.length).push(bytes);
  }

  string(text: string, max: number, name: string): this {
    return this.bytes(utf8(text), max, name);
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  /** Writes a varint count, then each item. */
  list<T>(items: readonly T[], max: number, name: string, item: (w: this, value: T) => void): this {
    if (items.length > max) throw new RangeError(`'${name}' has more than ${max} items`);
    this.varint(items.length);
    for (const value of items) item(this, value);
    return this;
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.length);
    let at = 0;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }
}

/** Reads one encoded object of an expected type; every failure is `malformed_message`. */
export class WireReader {
  private at = 0;

  constructor(
    private readonly input: Uint8Array,
    type: WireType,
    private readonly what: string,
  ) {
    if (!(input instanceof Uint8Array)) throw malformed(what, "not bytes");
    const version = this.u8("version");
    if (version !== WIRE_VERSION) throw malformed(what, `unknown version ${version}`);
    const got = this.u8("type");
    if (got !== type) throw malformed(what, `type ${got}, expected ${type}`);
  }

  private take(n: number, name: string): Uint8Array {
    if (this.at + n > this.input.length) throw malformed(this.what, `'${name}' truncated`);
    const out = this.input.slice(this.at, this.at + n);
    this.at += n;
    return out;
  }

  u8(name: string): number {
    return this.take(1, name)[0]!;
  }

  varint(name: string, max = Number.MAX_SAFE_INTEGER): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      const b = this.u8(name);
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (i > 0 && b === 0) throw malformed(this.what, `'${name}' not minimally encoded`);
        if (value > max) throw malformed(this.what, `'${name}' = ${value} exceeds ${max}`);
        return value;
      }
      scale *= 128;
    }
    throw malformed(this.what, `'${name}' varint too long`);
  }

  fixed(length: number, name: string): Uint8Array {
    return this.take(length, name);
  }

  bytes(max: number, name: string): Uint8Array {
    return this.take(this.varint(name, max), name);
  }

  string(max: number, name: string): string {
    const raw = this.bytes(max, name);
    try {
      return fromUtf8(raw);
    } catch {
      throw malformed(this.what, `'${name}' is not UTF-8`);
    }
  }

  bool(name: string): boolean {
    const b = this.u8(name);
    if (b > 1) throw malformed(this.what, `'${name}' is not a boolean`);
    return b === 1;
  }

  /** Reads `count` items (count itself read as a varint bounded by `max`). */
  list<T>(max: number, name: string, item: (r: this) => T): T[] {
    const n = this.varint(name, max);
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(item(this));
    return out;
  }

  /** Bytes not read yet. */
  remaining(): number {
    return this.input.length - this.at;
  }

  /** Fails unless every byte was consumed. */
  end(): void {
    if (this.at !== this.input.length) {
      throw malformed(this.what, `${this.input.length - this.at} trailing byte(s)`);
    }
  }
}

/**
 * Runs a decoder so that it can only throw `malformed_message`: a bug in a decoder turns into
 * the typed error instead of escaping as something else (the fuzz tests rely on this).
 */
export function decodeWith<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    if (err instanceof ParleyError) throw err;
    throw malformed(what, `unexpected ${(err as Error)?.name ?? "error"}`);
  }
}

import { toHex } from "../crypto/bytes.ts";
import type { KeyPair } from "../crypto/primitives.ts";

/** A remote device: the server's user id and device id. */
export interface ProtocolAddress {
  userId: string;
  deviceId: string;
}

export function addressKey(a: ProtocolAddress): string {
  return `${a.userId}:${a.deviceId}`;
}

/** This device's identity, as sessions need it. */
export interface LocalIdentity {
  userId: string;
  deviceId: string;
  /** The account identity key (Ed25519 public). */
  accountKey: Uint8Array;
  /** The device identity key (X25519). */
  identityKeyPair: KeyPair;
}

/** Encoded session records (record.ts), one per remote device. */
export interface SessionStore {
  loadSession(address: ProtocolAddress): Promise<Uint8Array | undefined>;
  storeSession(address: ProtocolAddress, record: Uint8Array): Promise<void>;
}

/** This device's own identity and prekeys (the private halves of what it published). */
export interface LocalKeyStore {
  localIdentity(): Promise<LocalIdentity>;
  signedPrekey(keyId: number): Promise<KeyPair | undefined>;
  oneTimePrekey(keyId: number): Promise<KeyPair | undefined>;
  removeOneTimePrekey(keyId: number): Promise<void>;
  pqPrekey(keyId: number): Promise<{ keyPair: KeyPair; lastResort: boolean } | undefined>;
  /** Called for one-time PQ prekeys only; a last-resort key stays until rotated. */
  removePqPrekey(keyId: number): Promise<void>;
}

/**
 * Which account identity key belongs to which user. Trust on first use: the first key seen
 * for a user is recorded; a different one later is reported as `untrusted_identity` until
 * the person accepts it (`saveIdentity`), as in Signal.
 */
export interface IdentityStore {
  isTrustedIdentity(userId: string, accountKey: Uint8Array): Promise<boolean>;
  saveIdentity(userId: string, accountKey: Uint8Array): Promise<void>;
}

/**
 * Base keys of PQXDH first messages already processed, so a replayed first message cannot
 * create or revive a session after its state is gone. Entries may be pruned once the signed
 * prekey they used is deleted (a replay then fails for lack of that key).
 */
export interface BaseKeyStore {
  hasSeen(baseKey: Uint8Array): Promise<boolean>;
  remember(baseKey: Uint8Array, signedPrekeyId: number): Promise<void>;
}

export interface SessionStores {
  sessions: SessionStore;
  keys: LocalKeyStore;
  identities: IdentityStore;
  baseKeys: BaseKeyStore;
}

/** In-memory stores: for tests and for clients that persist the whole set themselves. */
export class InMemorySessionStores
  implements SessionStore, LocalKeyStore, IdentityStore, BaseKeyStore
{
  readonly records = new Map<string, Uint8Array>();
  readonly signedPrekeys = new Map<number, KeyPair>();
  readonly oneTimePrekeys = new Map<number, KeyPair>();
  readonly pqPrekeys = new Map<number, { keyPair: KeyPair; lastResort: boolean }>();
  readonly trusted = new Map<string, string>();
  readonly seenBaseKeys = new Map<string, number>();

  constructor(readonly identity: LocalIdentity) {}

  get stores(): SessionStores {
    return { sessions: this, keys: this, identities: this, baseKeys: this };
  }

  async loadSession(a: ProtocolAddress) {
    return this.records.get(addressKey(a));
  }
  async storeSession(a: ProtocolAddress, record: Uint8Array) {
    this.records.set(addressKey(a), record);
  }
  async localIdentity() {
    return this.identity;
  }
  async signedPrekey(id: number) {
    return this.signedPrekeys.get(id);
  }
  async oneTimePrekey(id: number) {
    return this.oneTimePrekeys.get(id);
  }
  async removeOneTimePrekey(id: number) {
    this.oneTimePrekeys.delete(id);
  }
  async pqPrekey(id: number) {
    return this.pqPrekeys.get(id);
  }
  async removePqPrekey(id: number) {
    this.pqPrekeys.delete(id);
  }
  async isTrustedIdentity(userId: string, accountKey: Uint8Array) {
    const known = this.trusted.get(userId);
    if (known === undefined) {
      this.trusted.set(userId, toHex(accountKey));
      return true;
    }
    return known === toHex(accountKey);
  }
  async saveIdentity(userId: string, accountKey: Uint8Array) {
    this.trusted.set(userId, toHex(accountKey));
  }
  async hasSeen(baseKey: Uint8Array) {
    return this.seenBaseKeys.has(toHex(baseKey));
  }
  async remember(baseKey: Uint8Array, signedPrekeyId: number) {
    this.seenBaseKeys.set(toHex(baseKey), signedPrekeyId);
  }
}

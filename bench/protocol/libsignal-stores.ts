// Minimal in-memory libsignal stores for bench/protocol-ops.ts. Session records are kept
// serialized (deserialized on every load), as Parley's InMemorySessionStores keeps encoded
// records: both sides pay the same "persisted record" cost. Sender-key records are kept as
// objects, as the benchmark keeps Parley's SenderKeyRecord and OwnSenderKey objects.
import {
  type Direction,
  IdentityChange,
  IdentityKeyPair,
  IdentityKeyStore,
  KEMKeyPair,
  KyberPreKeyRecord,
  KyberPreKeyStore,
  PreKeyBundle,
  PreKeyRecord,
  PreKeyStore,
  PrivateKey,
  ProtocolAddress,
  type PublicKey,
  type SenderKeyRecord,
  SenderKeyStore,
  SessionRecord,
  SessionStore,
  SignedPreKeyRecord,
  SignedPreKeyStore,
} from "@signalapp/libsignal-client";

const addressKey = (a: ProtocolAddress) => `${a.name()}.${a.deviceId()}`;

export class MemorySessionStore extends SessionStore {
  readonly records = new Map<string, Uint8Array<ArrayBuffer>>();
  async saveSession(name: ProtocolAddress, record: SessionRecord): Promise<void> {
    this.records.set(addressKey(name), record.serialize());
  }
  async getSession(name: ProtocolAddress): Promise<SessionRecord | null> {
    const bytes = this.records.get(addressKey(name));
    return bytes ? SessionRecord.deserialize(bytes) : null;
  }
  async getExistingSessions(addresses: ProtocolAddress[]): Promise<SessionRecord[]> {
    return addresses.map((a) => {
      const bytes = this.records.get(addressKey(a));
      if (!bytes) throw new Error(`no session for ${addressKey(a)}`);
      return SessionRecord.deserialize(bytes);
    });
  }
}

/** Trust on first use, as Parley's in-memory IdentityStore. */
export class MemoryIdentityStore extends IdentityKeyStore {
  readonly known = new Map<string, PublicKey>();
  constructor(
    readonly identity: IdentityKeyPair,
    readonly registrationId: number,
  ) {
    super();
  }
  async getIdentityKey(): Promise<PrivateKey> {
    return this.identity.privateKey;
  }
  override async getIdentityKeyPair(): Promise<IdentityKeyPair> {
    return this.identity;
  }
  async getLocalRegistrationId(): Promise<number> {
    return this.registrationId;
  }
  async saveIdentity(name: ProtocolAddress, key: PublicKey): Promise<IdentityChange> {
    const previous = this.known.get(addressKey(name));
    this.known.set(addressKey(name), key);
    return previous && !previous.equals(key)
      ? IdentityChange.ReplacedExisting
      : IdentityChange.NewOrUnchanged;
  }
  async isTrustedIdentity(
    name: ProtocolAddress,
    key: PublicKey,
    _direction: Direction,
  ): Promise<boolean> {
    const known = this.known.get(addressKey(name));
    return !known || known.equals(key);
  }
  async getIdentity(name: ProtocolAddress): Promise<PublicKey | null> {
    return this.known.get(addressKey(name)) ?? null;
  }
}

export class MemoryPreKeyStore extends PreKeyStore {
  readonly records = new Map<number, PreKeyRecord>();
  async savePreKey(id: number, record: PreKeyRecord): Promise<void> {
    this.records.set(id, record);
  }
  async getPreKey(id: number): Promise<PreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no prekey ${id}`);
    return r;
  }
  async removePreKey(id: number): Promise<void> {
    this.records.delete(id);
  }
}

export class MemorySignedPreKeyStore extends SignedPreKeyStore {
  readonly records = new Map<number, SignedPreKeyRecord>();
  async saveSignedPreKey(id: number, record: SignedPreKeyRecord): Promise<void> {
    this.records.set(id, record);
  }
  async getSignedPreKey(id: number): Promise<SignedPreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no signed prekey ${id}`);
    return r;
  }
}

/** Kyber prekeys; the benchmark uses a last-resort one, so "used" removes nothing. */
export class MemoryKyberPreKeyStore extends KyberPreKeyStore {
  readonly records = new Map<number, KyberPreKeyRecord>();
  async saveKyberPreKey(id: number, record: KyberPreKeyRecord): Promise<void> {
    this.records.set(id, record);
  }
  async getKyberPreKey(id: number): Promise<KyberPreKeyRecord> {
    const r = this.records.get(id);
    if (!r) throw new Error(`no kyber prekey ${id}`);
    return r;
  }
  async markKyberPreKeyUsed(_id: number, _signedPreKeyId: number, _baseKey: PublicKey) {}
}

export class MemorySenderKeyStore extends SenderKeyStore {
  readonly records = new Map<string, SenderKeyRecord>();
  async saveSenderKey(sender: ProtocolAddress, distributionId: string, record: SenderKeyRecord) {
    this.records.set(`${addressKey(sender)}/${distributionId}`, record);
  }
  async getSenderKey(sender: ProtocolAddress, distributionId: string) {
    return this.records.get(`${addressKey(sender)}/${distributionId}`) ?? null;
  }
}

/** A libsignal device: identity, a signed prekey, a last-resort Kyber prekey and stores. */
export class LibsignalParty {
  readonly identity: MemoryIdentityStore;
  readonly sessions = new MemorySessionStore();
  readonly preKeys = new MemoryPreKeyStore();
  readonly signedPreKeys = new MemorySignedPreKeyStore();
  readonly kyberPreKeys = new MemoryKyberPreKeyStore();
  readonly senderKeys = new MemorySenderKeyStore();
  readonly address: ProtocolAddress;
  private nextPreKeyId = 1;

  static readonly SIGNED_PREKEY_ID = 1;
  static readonly KYBER_PREKEY_ID = 1;

  constructor(name: string, deviceId: number, registrationId: number) {
    this.address = ProtocolAddress.new(name, deviceId);
    const identityKeyPair = IdentityKeyPair.generate();
    this.identity = new MemoryIdentityStore(identityKeyPair, registrationId);
    const signed = PrivateKey.generate();
    const signedPublic = signed.getPublicKey();
    this.signedPreKeys.records.set(
      LibsignalParty.SIGNED_PREKEY_ID,
      SignedPreKeyRecord.new(
        LibsignalParty.SIGNED_PREKEY_ID,
        Date.now(),
        signedPublic,
        signed,
        identityKeyPair.privateKey.sign(signedPublic.serialize()),
      ),
    );
    const kem = KEMKeyPair.generate();
    this.kyberPreKeys.records.set(
      LibsignalParty.KYBER_PREKEY_ID,
      KyberPreKeyRecord.new(
        LibsignalParty.KYBER_PREKEY_ID,
        Date.now(),
        kem,
        identityKeyPair.privateKey.sign(kem.getPublicKey().serialize()),
      ),
    );
  }

  /**
   * A bundle as the server would hand it out: with a fresh one-time EC prekey (generated and
   * stored here) when asked, and always the same last-resort Kyber prekey.
   */
  bundle(withOneTimePrekey: boolean): PreKeyBundle {
    let oneTimeId: number | null = null;
    let oneTimePublic: PublicKey | null = null;
    if (withOneTimePrekey) {
      const key = PrivateKey.generate();
      oneTimeId = this.nextPreKeyId++;
      oneTimePublic = key.getPublicKey();
      this.preKeys.records.set(oneTimeId, PreKeyRecord.new(oneTimeId, oneTimePublic, key));
    }
    const signed = this.signedPreKeys.records.get(LibsignalParty.SIGNED_PREKEY_ID)!;
    const kyber = this.kyberPreKeys.records.get(LibsignalParty.KYBER_PREKEY_ID)!;
    return PreKeyBundle.new(
      this.identity.registrationId,
      this.address.deviceId(),
      oneTimeId,
      oneTimePublic,
      signed.id(),
      signed.publicKey(),
      signed.signature(),
      this.identity.identity.publicKey,
      kyber.id(),
      kyber.publicKey(),
      kyber.signature(),
    );
  }
}

/**
 * Inputs for writing through the real stores (server/store/repos) without the protocol. The
 * stores verify no signature, so these are fixed dummy bytes of the right lengths; a prekey's
 * encoding carries its kind and key id, so a test can tell which key a claim handed out.
 */
import type {
  AccountsStore,
  CreateAccountInput,
  DeviceListRecord,
  NewDeviceRecord,
  PrekeyRecord,
  PrekeyUploadRecord,
} from "../../server/domain/ports/accounts.ts";
import type { DeviceId, UserId } from "../../server/domain/ports.ts";

const X25519_KEY_BYTES = 32;
const ML_KEM_1024_PUBLIC_KEY_BYTES = 1568;
const SIGNATURE_BYTES = 64;
const HASH_BYTES = 32;
/** Roughly a real one's length: `01 08`, two ids, two keys, two times, a signature. */
const CERTIFICATE_BYTES = 2 + 2 * 37 + 2 * 32 + 2 * 6 + SIGNATURE_BYTES;
const DEVICE_LIST_BYTES = 2 + 37 + 1 + HASH_BYTES + 12 + 1 + CERTIFICATE_BYTES + SIGNATURE_BYTES;
/** docs/PROTOCOL.md "Signed prekey": `01 09 ‖ …`; here followed by kind u8 and keyId u32. */
const PREKEY_HEADER_BYTES = 7;
const PREKEY_KIND = { signed: 1, oneTime: 2, pqOneTime: 3, pqLastResort: 4 } as const;

const filled = (length: number, byte: number) => new Uint8Array(length).fill(byte & 0xff);
const hex = (n: number, width: number) => n.toString(16).padStart(width, "0");

/** UUIDv7-shaped ids, numbered so a test can name the account (and its devices) again. */
export const testUserId = (account: number) =>
  `01900000-0000-7000-8000-${hex(account, 12)}` as UserId;
export const testDeviceId = (account: number, device = 1) =>
  `01900000-0000-7000-9${hex(device, 3)}-${hex(account, 12)}` as DeviceId;

export function prekey(kind: keyof typeof PREKEY_KIND, keyId: number): PrekeyRecord {
  const pq = kind === "pqOneTime" || kind === "pqLastResort";
  const publicKey = filled(pq ? ML_KEM_1024_PUBLIC_KEY_BYTES : X25519_KEY_BYTES, keyId);
  const signature = filled(SIGNATURE_BYTES, PREKEY_KIND[kind]);
  const encoded = new Uint8Array(PREKEY_HEADER_BYTES + publicKey.length + signature.length);
  encoded.set([0x01, 0x09, PREKEY_KIND[kind]]);
  new DataView(encoded.buffer).setUint32(3, keyId);
  encoded.set(publicKey, PREKEY_HEADER_BYTES);
  encoded.set(signature, PREKEY_HEADER_BYTES + publicKey.length);
  return { keyId, publicKey, signature, encoded };
}

/** The key id inside an encoding made by `prekey`. */
export const prekeyIdOf = (encoded: Uint8Array) =>
  new DataView(encoded.buffer, encoded.byteOffset, encoded.byteLength).getUint32(3);

/** One-time prekeys with ids `first`, `first + 1`, … (`count` of them). */
export const oneTimePrekeys = (count: number, first = 1) =>
  Array.from({ length: count }, (_, i) => prekey("oneTime", first + i));

/** What a new device publishes: a signed prekey, a PQ last-resort one, and one-time ones. */
export function firstPrekeys(oneTime: PrekeyRecord[]): PrekeyUploadRecord {
  return {
    signedPrekey: prekey("signed", 1),
    oneTimePrekeys: oneTime,
    pqLastResort: prekey("pqLastResort", 1),
    pqOneTimePrekeys: [],
  };
}

export function deviceRecord(account: number, device = 1): NewDeviceRecord {
  return {
    id: testDeviceId(account, device),
    userId: testUserId(account),
    identityKey: filled(X25519_KEY_BYTES, device),
    certificate: filled(CERTIFICATE_BYTES, device),
    platform: "cli",
    secretHash: `secret-hash-${account}-${device}`,
    nameCiphertext: null,
  };
}

/** Version `version` of an account's device list; its hash is the version repeated. */
export function deviceList(version: number): DeviceListRecord {
  return {
    version,
    encoded: filled(DEVICE_LIST_BYTES, version),
    hash: filled(HASH_BYTES, version),
  };
}

/** An open-mode registration of account `account` with one device. */
export function createAccountInput(
  account: number,
  options: { username?: string; oneTime?: PrekeyRecord[]; now?: number } = {},
): CreateAccountInput {
  return {
    user: {
      id: testUserId(account),
      username: options.username ?? `user${account}`,
      accountKey: filled(X25519_KEY_BYTES, account),
      isAdmin: false,
      phone: null,
      email: null,
    },
    device: deviceRecord(account),
    deviceList: deviceList(1),
    keys: firstPrekeys(options.oneTime ?? oneTimePrekeys(2)),
    proof: { kind: "open" },
    now: options.now ?? 1000,
  };
}

/** An admin-created account `account` without devices, with the claim code its owner uses. */
export function pendingAccountInput(
  account: number,
  options: { username?: string; isAdmin?: boolean; now?: number } = {},
): Parameters<AccountsStore["createPendingAccount"]>[0] {
  const now = options.now ?? 1000;
  const isAdmin = options.isAdmin ?? false;
  return {
    id: testUserId(account),
    username: options.username ?? `user${account}`,
    isAdmin,
    now,
    claim: {
      id: `claim-${account}`,
      codeHash: `claim-hash-${account}`,
      createdBy: "admin-cli",
      note: null,
      maxUses: 1,
      forUserId: testUserId(account),
      admin: isAdmin,
      createdAt: now,
      expiresAt: now + 24 * 60 * 60 * 1000,
    },
  };
}

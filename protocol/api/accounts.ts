import { type Static, Type } from "@sinclair/typebox";
import { base64UrlLength } from "./base64.ts";

/**
 * Request and response bodies of the accounts, devices and keys API (docs/PROTOCOL.md §11).
 * Binary values are base64url without padding; ids are canonical lowercase UUIDs.
 */

export const UUID_PATTERN = "^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$";

export const Id = (description: string) => Type.String({ pattern: UUID_PATTERN, description });

/** Base64url of at most `maxBytes` bytes. */
export const Bytes = (maxBytes: number, description: string) =>
  Type.String({ pattern: "^[A-Za-z0-9_-]*$", maxLength: base64UrlLength(maxBytes), description });

/** Base64url of exactly `bytes` bytes: for secrets, where a shorter value would be a weak one. */
export const ExactBytes = (bytes: number, description: string) =>
  Type.String({
    pattern: "^[A-Za-z0-9_-]*$",
    minLength: base64UrlLength(bytes),
    maxLength: base64UrlLength(bytes),
    description,
  });

/** 3–32 of a–z, 0–9, _ and . (ASCII only: no look-alike letters), not starting with a dot. */
export const USERNAME_PATTERN = "^[a-z0-9_][a-z0-9_.]{2,31}$";
export const Username = Type.String({
  pattern: USERNAME_PATTERN,
  description: "3–32 characters of a–z, 0–9, _ and .",
});

export const PLATFORMS = ["web", "cli", "desktop", "android", "ios"] as const;
export const Platform = Type.Union(PLATFORMS.map((p) => Type.Literal(p)));
export type Platform = (typeof PLATFORMS)[number];

/** Encoded sizes (protocol/identity): a signed X25519 prekey fits 256 bytes, a PQ one 2048. */
const MAX_PREKEY = 256;
const MAX_PQ_PREKEY = 2048;
const MAX_CERTIFICATE = 512;
const MAX_DEVICE_LIST = 8192;
const MAX_NAME_CIPHERTEXT = 512;
export const MAX_KEYS_PER_UPLOAD = 100;

/** Prekeys to publish, each a signed prekey encoding (protocol/identity/prekey.ts). */
export const KeyUpload = Type.Object({
  signedPrekey: Type.Optional(Bytes(MAX_PREKEY, "The current signed prekey")),
  oneTimePrekeys: Type.Optional(
    Type.Array(Bytes(MAX_PREKEY, "A one-time prekey"), { maxItems: MAX_KEYS_PER_UPLOAD }),
  ),
  pqLastResort: Type.Optional(Bytes(MAX_PQ_PREKEY, "The last-resort ML-KEM-1024 prekey")),
  pqOneTimePrekeys: Type.Optional(
    Type.Array(Bytes(MAX_PQ_PREKEY, "A one-time ML-KEM-1024 prekey"), {
      maxItems: MAX_KEYS_PER_UPLOAD,
    }),
  ),
});
export type KeyUpload = Static<typeof KeyUpload>;

/** A device being registered or linked. */
export const NewDevice = Type.Object({
  deviceId: Id("Chosen by the client: a UUIDv7 not used before"),
  secret: ExactBytes(32, "32 random bytes the device signs in with; the server keeps a hash"),
  platform: Platform,
  nameCiphertext: Type.Optional(
    Bytes(MAX_NAME_CIPHERTEXT, "The device name, encrypted by the account's devices"),
  ),
  certificate: Bytes(MAX_CERTIFICATE, "Device certificate signed by the account key"),
});

export const Phone = Type.String({
  pattern: "^\\+[1-9][0-9]{6,14}$",
  description: "E.164, e.g. +15551234567",
});
/**
 * One plain address and nothing else: no comma, semicolon, angle brackets, quotes,
 * parentheses, square brackets or backslash, which would let one request send a code to
 * several people (or name someone else) once an SMTP library reads it as an address list.
 * The API checks it and the email sender (server/lib/otp/smtp.ts) checks it again, so an
 * address the API accepts is one the sender takes.
 */
export const EMAIL_PATTERN =
  '^[^\\s@,;<>"()[\\]\\\\]+@[^\\s@,;<>"()[\\]\\\\]+\\.[^\\s@,;<>"()[\\]\\\\]+$';
export const Email = Type.String({ maxLength: 254, pattern: EMAIL_PATTERN });

/**
 * The one form of an email address the server stores, looks up and keys codes by: trimmed
 * and lowercased, so `Alice@Example.org` and `alice@example.org` are one account.
 */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export const RegistrationProof = Type.Union([
  Type.Object({ kind: Type.Literal("open") }),
  Type.Object({
    kind: Type.Literal("invite"),
    code: Type.String({ minLength: 8, maxLength: 128 }),
  }),
  Type.Object({
    kind: Type.Literal("otp"),
    challengeId: Id("From POST /otp"),
    code: Type.String({ pattern: "^[0-9]{6}$" }),
    phone: Type.Optional(Phone),
    email: Type.Optional(Email),
  }),
]);

/** TOTP code or a recovery code: needed to reset the identity of an account that enrolled TOTP. */
export const SecondFactor = Type.Object({
  totpCode: Type.Optional(Type.String({ pattern: "^[0-9]{6}$" })),
  recoveryCode: Type.Optional(Type.String({ minLength: 8, maxLength: 32 })),
});

/**
 * POST /accounts. A new account, or — when the proof belongs to an existing account (an
 * invite an admin made for it, or its phone/email code: the way back after losing every
 * device) — a reset of that account's identity: new account key, every old device removed,
 * contacts see a safety-number change.
 */
export const RegisterRequest = Type.Object({
  userId: Id("Chosen by the client for a new account; the account's id for a reset"),
  username: Type.Optional(Username),
  accountKey: Bytes(32, "The account identity public key (Ed25519)"),
  device: NewDevice,
  deviceList: Bytes(
    MAX_DEVICE_LIST,
    "Device list version 1, signed by the account key, with this device",
  ),
  keys: KeyUpload,
  proof: RegistrationProof,
  secondFactor: Type.Optional(SecondFactor),
});
export type RegisterRequest = Static<typeof RegisterRequest>;

export const Tokens = Type.Object({
  userId: Type.String(),
  deviceId: Type.String(),
  accessToken: Type.String(),
  accessTokenExpiresAt: Type.Integer(),
  refreshToken: Type.String(),
});
export type Tokens = Static<typeof Tokens>;

/**
 * POST /auth/token: `grant: "device"` with `deviceId` and `secret`, or `grant: "refresh"` with
 * `refreshToken`. One object rather than a union, so a wrong field is named in the error.
 */
export const TokenRequest = Type.Object({
  grant: Type.Union([Type.Literal("device"), Type.Literal("refresh")]),
  deviceId: Type.Optional(Id("The device (grant device)")),
  secret: Type.Optional(ExactBytes(32, "Its secret, 32 bytes (grant device)")),
  refreshToken: Type.Optional(
    Type.String({ minLength: 10, maxLength: 200, description: "grant refresh" }),
  ),
});

/** POST /devices: a linked device registers itself, with a device list that adds it. */
export const LinkDeviceRequest = Type.Object({
  userId: Id("The account"),
  device: NewDevice,
  deviceList: Bytes(MAX_DEVICE_LIST, "The next device-list version, with this device"),
  keys: KeyUpload,
});

export const DeviceInfo = Type.Object({
  deviceId: Type.String(),
  platform: Platform,
  nameCiphertext: Type.Optional(Type.String()),
  createdAt: Type.Integer(),
  lastActiveAt: Type.Optional(Type.Integer()),
  current: Type.Boolean(),
});

export const OtpRequest = Type.Object({ phone: Type.Optional(Phone), email: Type.Optional(Email) });

/** One device's keys as the directory serves them (each value a protocol encoding). */
export const DeviceBundle = Type.Object({
  deviceId: Type.String(),
  certificate: Type.String(),
  signedPrekey: Type.String(),
  oneTimePrekey: Type.Optional(Type.String()),
  pqPrekey: Type.String(),
});

export const UserKeys = Type.Object({
  userId: Type.String(),
  accountKey: Type.String(),
  deviceList: Type.String(),
  devices: Type.Array(DeviceBundle),
});
export type UserKeys = Static<typeof UserKeys>;

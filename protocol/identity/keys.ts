import { expectBytes } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { checkEd25519PublicKey } from "../crypto/ed25519-key.ts";
import {
  ED25519_SECRET_KEY_BYTES,
  type KeyPair,
  MLKEM1024_PUBLIC_KEY_BYTES,
} from "../crypto/primitives.ts";
import { ParleyError } from "../errors.ts";

/** The account identity public key (Ed25519): signs certificates, prekeys, lists, log entries. */
export type AccountPublicKey = Uint8Array & { readonly __brand: "AccountPublicKey" };
/** The account identity secret key (32-byte Ed25519 seed). Never leaves the user's devices. */
export type AccountSecretKey = Uint8Array & { readonly __brand: "AccountSecretKey" };

/** An account identity key pair, as made by {@link generateAccountKey}. */
export interface AccountKeyPair {
  publicKey: AccountPublicKey;
  secretKey: AccountSecretKey;
}

/** Checks and brands an account public key received from storage or the server. */
export function asAccountPublicKey(key: unknown, name = "accountPublicKey"): AccountPublicKey {
  return checkEd25519PublicKey(key, name) as AccountPublicKey;
}

/** Checks the length of and brands an account secret key loaded from local storage. */
export function asAccountSecretKey(key: unknown, name = "accountSecretKey"): AccountSecretKey {
  return expectBytes(key, ED25519_SECRET_KEY_BYTES, name) as AccountSecretKey;
}

/** Makes a new account identity key (on the first device, or at "reset identity"). */
export async function generateAccountKey(ctx: ProtocolContext): Promise<AccountKeyPair> {
  const pair = await ctx.prims.ed25519.generateKeyPair(ctx.rng);
  return {
    publicKey: asAccountPublicKey(pair.publicKey),
    secretKey: asAccountSecretKey(pair.secretKey),
  };
}

/**
 * A device's own long-term keys: its X25519 identity key (PQXDH) and its Ed25519 signing
 * key (for what the device alone vouches for, such as the key-backup entries it writes).
 */
export interface DeviceIdentityKeys {
  identityKey: KeyPair;
  signingKey: KeyPair;
}

/** Makes a new device's identity and signing keys. */
export async function generateDeviceIdentity(ctx: ProtocolContext): Promise<DeviceIdentityKeys> {
  const identityKey = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const signingKey = await ctx.prims.ed25519.generateKeyPair(ctx.rng);
  return { identityKey, signingKey };
}

const MLKEM_Q = 3329;
/** ML-KEM-1024 encapsulation key: 4 × 384 bytes of 12-bit coefficients, then the seed ρ. */
const MLKEM1024_POLY_BYTES = 4 * 384;

/**
 * FIPS 203 §7.2 input check on an ML-KEM-1024 public key: exact length, and every 12-bit
 * coefficient below q (the key re-encodes to itself). Keys failing it are never signed or
 * accepted, so two peers cannot disagree about what a key means.
 */
export function checkMlKem1024PublicKey(key: unknown, name: string): Uint8Array {
  const bytes = expectBytes(key, MLKEM1024_PUBLIC_KEY_BYTES, name);
  for (let i = 0; i < MLKEM1024_POLY_BYTES; i += 3) {
    const b0 = bytes[i]!;
    const b1 = bytes[i + 1]!;
    const b2 = bytes[i + 2]!;
    if ((b0 | ((b1 & 0x0f) << 8)) >= MLKEM_Q || ((b1 >> 4) | (b2 << 4)) >= MLKEM_Q) {
      throw new ParleyError("invalid_key", `'${name}' is not a valid ML-KEM-1024 key`, {
        field: name,
      });
    }
  }
  return bytes;
}

export { checkEd25519PublicKey };

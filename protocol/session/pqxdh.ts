import { concatBytes, expectBytes, utf8 } from "../crypto/bytes.ts";
import type { ProtocolContext } from "../crypto/context.ts";
import { KDF_INFO, ZERO_SALT } from "../crypto/kdf.ts";
import {
  ED25519_PUBLIC_KEY_BYTES,
  type KeyPair,
  MLKEM1024_CIPHERTEXT_BYTES,
  MLKEM1024_PUBLIC_KEY_BYTES,
} from "../crypto/primitives.ts";
import { checkX25519PublicKey, x25519Agree } from "../crypto/x25519.ts";
import { ParleyError } from "../errors.ts";
import { KEY_TAG, tagged } from "./key-encoding.ts";

/**
 * PQXDH, structured like revision 3 of Signal's specification: X3DH's three or four X25519
 * agreements plus an ML-KEM-1024 encapsulation to the responder's PQ prekey, combined by one
 * HKDF. Differences, all on the side of binding more:
 * - the HKDF info is our versioned string followed by SHA-256 of the whole transcript
 *   (associated data, every prekey used, the base key and the KEM ciphertext), so the
 *   derived secret commits to each public value and to the ciphertext;
 * - the associated data binds the account identity keys (Ed25519) as well as the device
 *   identity keys (X25519) of both sides, each with its key-type tag.
 * Prekey signatures are checked before this runs (protocol/identity), not here.
 */

/** 32 bytes of 0xFF before the agreements: X3DH's domain separator from XEdDSA. */
const DISCONTINUITY = new Uint8Array(32).fill(0xff);
export const SESSION_SECRET_BYTES = 32;

/** The responder's published keys, as fetched from the key directory and verified. */
export interface PrekeyBundle {
  accountKey: Uint8Array;
  identityKey: Uint8Array;
  signedPrekey: { keyId: number; publicKey: Uint8Array };
  oneTimePrekey?: { keyId: number; publicKey: Uint8Array };
  pqPrekey: { keyId: number; publicKey: Uint8Array; lastResort: boolean };
}

/** What a side needs of its own identity. */
export interface LocalIdentityKeys {
  accountKey: Uint8Array;
  identityKeyPair: KeyPair;
}

export interface PqxdhResult {
  sharedSecret: Uint8Array;
  /** Initiator's tagged account and identity keys, then the responder's. */
  associatedData: Uint8Array;
}

/**
 * The associated data of a session: tagged account key and identity key of the initiator,
 * then of the responder. Every message of the session authenticates it.
 */
export function sessionAssociatedData(
  initiator: { accountKey: Uint8Array; identityKey: Uint8Array },
  responder: { accountKey: Uint8Array; identityKey: Uint8Array },
): Uint8Array {
  return concatBytes(
    tagged(
      KEY_TAG.ed25519,
      expectBytes(initiator.accountKey, ED25519_PUBLIC_KEY_BYTES, "initiatorAccountKey"),
    ),
    tagged(KEY_TAG.x25519, initiator.identityKey),
    tagged(
      KEY_TAG.ed25519,
      expectBytes(responder.accountKey, ED25519_PUBLIC_KEY_BYTES, "responderAccountKey"),
    ),
    tagged(KEY_TAG.x25519, responder.identityKey),
  );
}

interface TranscriptInputs {
  associatedData: Uint8Array;
  signedPrekey: Uint8Array;
  oneTimePrekey: Uint8Array | undefined;
  pqPrekey: Uint8Array;
  baseKey: Uint8Array;
  kemCiphertext: Uint8Array;
}

async function deriveSessionSecret(
  ctx: ProtocolContext,
  agreements: Uint8Array[],
  kemSecret: Uint8Array,
  t: TranscriptInputs,
): Promise<Uint8Array> {
  const transcript = concatBytes(
    t.associatedData,
    tagged(KEY_TAG.x25519, t.signedPrekey),
    t.oneTimePrekey ? tagged(KEY_TAG.x25519, t.oneTimePrekey) : new Uint8Array(0),
    tagged(KEY_TAG.mlkem1024, t.pqPrekey),
    tagged(KEY_TAG.x25519, t.baseKey),
    t.kemCiphertext,
  );
  const info = concatBytes(utf8(KDF_INFO.pqxdh), await ctx.prims.sha256(transcript));
  const ikm = concatBytes(DISCONTINUITY, ...agreements, kemSecret);
  return ctx.prims.hkdfSha256(ikm, ZERO_SALT, info, SESSION_SECRET_BYTES);
}

/** The initiator's side: a fresh base key, the agreements and the KEM encapsulation. */
export async function pqxdhInitiate(
  ctx: ProtocolContext,
  local: LocalIdentityKeys,
  bundle: PrekeyBundle,
): Promise<PqxdhResult & { baseKeyPair: KeyPair; kemCiphertext: Uint8Array }> {
  checkX25519PublicKey(bundle.identityKey, "identityKey");
  checkX25519PublicKey(bundle.signedPrekey.publicKey, "signedPrekey");
  if (bundle.oneTimePrekey) checkX25519PublicKey(bundle.oneTimePrekey.publicKey, "oneTimePrekey");
  expectBytes(bundle.pqPrekey.publicKey, MLKEM1024_PUBLIC_KEY_BYTES, "pqPrekey");

  const { prims } = ctx;
  const base = await prims.x25519.generateKeyPair(ctx.rng);
  // The agreements start first, in WebCrypto's thread pool, while ML-KEM runs here.
  const dh = Promise.all([
    x25519Agree(
      prims,
      local.identityKeyPair.secretKey,
      bundle.signedPrekey.publicKey,
      "signedPrekey",
    ),
    x25519Agree(prims, base.secretKey, bundle.identityKey, "identityKey"),
    x25519Agree(prims, base.secretKey, bundle.signedPrekey.publicKey, "signedPrekey"),
    ...(bundle.oneTimePrekey
      ? [x25519Agree(prims, base.secretKey, bundle.oneTimePrekey.publicKey, "oneTimePrekey")]
      : []),
  ]);
  const encapsulation = prims.mlkem1024
    .encapsulate(bundle.pqPrekey.publicKey, ctx.rng)
    .catch((err) => {
      throw new ParleyError("invalid_key", "'pqPrekey' is not a valid ML-KEM-1024 key", {
        field: "pqPrekey",
        cause: err,
      });
    });
  const [agreements, kem] = await Promise.all([dh, encapsulation]);
  const associatedData = sessionAssociatedData(
    { accountKey: local.accountKey, identityKey: local.identityKeyPair.publicKey },
    { accountKey: bundle.accountKey, identityKey: bundle.identityKey },
  );
  const sharedSecret = await deriveSessionSecret(ctx, agreements, kem.sharedSecret, {
    associatedData,
    signedPrekey: bundle.signedPrekey.publicKey,
    oneTimePrekey: bundle.oneTimePrekey?.publicKey,
    pqPrekey: bundle.pqPrekey.publicKey,
    baseKey: base.publicKey,
    kemCiphertext: kem.ciphertext,
  });
  return { sharedSecret, associatedData, baseKeyPair: base, kemCiphertext: kem.ciphertext };
}

/** The responder's own key pairs named by a prekey message. */
export interface ResponderPrekeys {
  signedPrekey: KeyPair;
  oneTimePrekey?: KeyPair;
  pqPrekey: KeyPair;
}

/** The responder's side, from the initiator's identity, base key and KEM ciphertext. */
export async function pqxdhRespond(
  ctx: ProtocolContext,
  local: LocalIdentityKeys,
  prekeys: ResponderPrekeys,
  initiator: {
    accountKey: Uint8Array;
    identityKey: Uint8Array;
    baseKey: Uint8Array;
    kemCiphertext: Uint8Array;
  },
): Promise<PqxdhResult> {
  checkX25519PublicKey(initiator.identityKey, "senderIdentityKey");
  checkX25519PublicKey(initiator.baseKey, "baseKey");
  expectBytes(initiator.kemCiphertext, MLKEM1024_CIPHERTEXT_BYTES, "kemCiphertext");
  const { prims } = ctx;
  const dh = Promise.all([
    x25519Agree(prims, prekeys.signedPrekey.secretKey, initiator.identityKey, "senderIdentityKey"),
    x25519Agree(prims, local.identityKeyPair.secretKey, initiator.baseKey, "baseKey"),
    x25519Agree(prims, prekeys.signedPrekey.secretKey, initiator.baseKey, "baseKey"),
    ...(prekeys.oneTimePrekey
      ? [x25519Agree(prims, prekeys.oneTimePrekey.secretKey, initiator.baseKey, "baseKey")]
      : []),
  ]);
  // ML-KEM rejects implicitly: a forged ciphertext yields an unrelated secret, and the
  // first message then fails to decrypt like any other forgery.
  const [agreements, kemSecret] = await Promise.all([
    dh,
    prims.mlkem1024.decapsulate(initiator.kemCiphertext, prekeys.pqPrekey.secretKey),
  ]);
  const associatedData = sessionAssociatedData(
    { accountKey: initiator.accountKey, identityKey: initiator.identityKey },
    { accountKey: local.accountKey, identityKey: local.identityKeyPair.publicKey },
  );
  const sharedSecret = await deriveSessionSecret(ctx, agreements, kemSecret, {
    associatedData,
    signedPrekey: prekeys.signedPrekey.publicKey,
    oneTimePrekey: prekeys.oneTimePrekey?.publicKey,
    pqPrekey: prekeys.pqPrekey.publicKey,
    baseKey: initiator.baseKey,
    kemCiphertext: initiator.kemCiphertext,
  });
  return { sharedSecret, associatedData };
}

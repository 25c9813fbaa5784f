import type { KeyUpload, Platform } from "../protocol/api/accounts.ts";
import { toBase64Url } from "../protocol/api/base64.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import type { KeyPair } from "../protocol/crypto/primitives.ts";
import {
  type DeviceCertificate,
  issueDeviceCertificate,
} from "../protocol/identity/device-certificate.ts";
import type { DeviceList } from "../protocol/identity/device-list.ts";
import type { DeviceId, UserId } from "../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../protocol/identity/keys.ts";
import { encodeSignedPrekey, type PrekeyKind, signPrekey } from "../protocol/identity/prekey.ts";
import { InMemorySessionStores } from "../protocol/session/stores.ts";

export type { Platform };

/**
 * One-time X25519 prekeys a device publishes when it joins, and tops up to when fewer than
 * KEYS_LOW_ONE_TIME (protocol/api/prekeys.ts) are left.
 */
export const ONE_TIME_PREKEYS = 100;
/**
 * One-time ML-KEM prekeys a device publishes when it joins, and tops up to when fewer than
 * KEYS_LOW_PQ_ONE_TIME (protocol/api/prekeys.ts) are left.
 */
export const PQ_ONE_TIME_PREKEYS = 10;

/**
 * Everything one device holds: its ids and sign-in secret, the account key (every device of
 * the account has it, as in Signal), its own identity and signing keys, the private halves of
 * its prekeys and its sessions (protocol/session stores), the newest device list it knows,
 * and the profile key. The app persists it, encrypted at rest.
 */
export interface DeviceState {
  userId: UserId;
  deviceId: DeviceId;
  platform: Platform;
  deviceSecret: Uint8Array;
  accountKeyPair: KeyPair;
  signingKeyPair: KeyPair;
  stores: InMemorySessionStores;
  certificate: DeviceCertificate;
  deviceList: DeviceList | undefined;
  profileKey: Uint8Array;
  nextPrekeyId: number;
  signedPrekeyId: number;
}

/** A fresh device for an account: new identity, signing key and secret, certified. */
export async function newDeviceState(
  ctx: ProtocolContext,
  init: {
    userId: UserId;
    deviceId: DeviceId;
    platform: Platform;
    accountKeyPair: KeyPair;
    profileKey?: Uint8Array;
  },
): Promise<DeviceState> {
  const identityKeyPair = await ctx.prims.x25519.generateKeyPair(ctx.rng);
  const signingKeyPair = await ctx.prims.ed25519.generateKeyPair(ctx.rng);
  const certificate = await issueDeviceCertificate(
    ctx,
    asAccountSecretKey(init.accountKeyPair.secretKey),
    {
      userId: init.userId,
      deviceId: init.deviceId,
      identityKey: identityKeyPair.publicKey,
      signingKey: signingKeyPair.publicKey,
    },
  );
  return {
    userId: init.userId,
    deviceId: init.deviceId,
    platform: init.platform,
    deviceSecret: ctx.rng(32),
    accountKeyPair: init.accountKeyPair,
    signingKeyPair,
    stores: new InMemorySessionStores({
      userId: init.userId,
      deviceId: init.deviceId,
      accountKey: init.accountKeyPair.publicKey,
      identityKeyPair,
    }),
    certificate,
    deviceList: undefined,
    profileKey: init.profileKey ?? ctx.rng(32),
    nextPrekeyId: 1,
    signedPrekeyId: 0,
  };
}

async function signed(
  ctx: ProtocolContext,
  state: DeviceState,
  kind: PrekeyKind,
  keyPair: KeyPair,
): Promise<{ id: number; encoded: string }> {
  const keyId = state.nextPrekeyId++;
  const prekey = await signPrekey(ctx, asAccountSecretKey(state.accountKeyPair.secretKey), {
    userId: state.userId,
    deviceId: state.deviceId,
    kind,
    keyId,
    publicKey: keyPair.publicKey,
  });
  return { id: keyId, encoded: toBase64Url(encodeSignedPrekey(prekey)) };
}

/**
 * New prekeys to publish, each signed by the account key, their private halves kept in
 * the device's stores. `signedPrekey` and `lastResort` replace the published ones.
 */
export async function makePrekeys(
  ctx: ProtocolContext,
  state: DeviceState,
  want: { oneTime?: number; pqOneTime?: number; signedPrekey?: boolean; lastResort?: boolean },
): Promise<KeyUpload> {
  const { prims, rng } = ctx;
  const upload: KeyUpload = {};
  if (want.signedPrekey) {
    const pair = await prims.x25519.generateKeyPair(rng);
    const s = await signed(ctx, state, "signed", pair);
    state.stores.signedPrekeys.set(s.id, pair);
    state.signedPrekeyId = s.id;
    upload.signedPrekey = s.encoded;
  }
  if (want.lastResort) {
    const pair = await prims.mlkem1024.generateKeyPair(rng);
    const s = await signed(ctx, state, "pq-last-resort", pair);
    state.stores.pqPrekeys.set(s.id, { keyPair: pair, lastResort: true });
    upload.pqLastResort = s.encoded;
  }
  if (want.oneTime) {
    upload.oneTimePrekeys = [];
    for (let i = 0; i < want.oneTime; i++) {
      const pair = await prims.x25519.generateKeyPair(rng);
      const s = await signed(ctx, state, "one-time", pair);
      state.stores.oneTimePrekeys.set(s.id, pair);
      upload.oneTimePrekeys.push(s.encoded);
    }
  }
  if (want.pqOneTime) {
    upload.pqOneTimePrekeys = [];
    for (let i = 0; i < want.pqOneTime; i++) {
      const pair = await prims.mlkem1024.generateKeyPair(rng);
      const s = await signed(ctx, state, "pq-one-time", pair);
      state.stores.pqPrekeys.set(s.id, { keyPair: pair, lastResort: false });
      upload.pqOneTimePrekeys.push(s.encoded);
    }
  }
  return upload;
}

/** The keys a device publishes when it joins: a full set. */
export const initialPrekeys = (
  ctx: ProtocolContext,
  state: DeviceState,
  counts = { oneTime: ONE_TIME_PREKEYS, pqOneTime: PQ_ONE_TIME_PREKEYS },
) => makePrekeys(ctx, state, { ...counts, signedPrekey: true, lastResort: true });

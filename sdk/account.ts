import type { RegisterRequest, Tokens } from "../protocol/api/accounts.ts";
import { toBase64Url } from "../protocol/api/base64.ts";
import { KEYS_LOW_ONE_TIME, KEYS_LOW_PQ_ONE_TIME } from "../protocol/api/prekeys.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { encodeDeviceCertificate } from "../protocol/identity/device-certificate.ts";
import { encodeDeviceList, signDeviceList } from "../protocol/identity/device-list.ts";
import type { DeviceId, UserId } from "../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../protocol/identity/keys.ts";
import { encryptDeviceName } from "../protocol/profile/device-name.ts";
import type { ApiClient } from "./api-client.ts";
import {
  type DeviceState,
  initialPrekeys,
  makePrekeys,
  newDeviceState,
  ONE_TIME_PREKEYS,
  type Platform,
  PQ_ONE_TIME_PREKEYS,
} from "./device.ts";
import { uuidV7 } from "./ids.ts";

export type RegistrationProof = RegisterRequest["proof"];

/**
 * Creates an account with this device as its first (or, when the proof belongs to an
 * existing account, resets that account's identity): a new account key, this device's
 * keys, device list version 1, all signed here; the server only checks the signatures.
 * A bad `deviceName` throws before anything is sent.
 */
export async function register(
  ctx: ProtocolContext,
  api: ApiClient,
  input: {
    username?: string;
    proof: RegistrationProof;
    platform: Platform;
    /** The account to reset or claim; a new id is chosen otherwise. */
    userId?: string;
    secondFactor?: RegisterRequest["secondFactor"];
    /** This device's name (1–64 characters), encrypted here for the account's devices only. */
    deviceName?: string;
    prekeyCounts?: { oneTime: number; pqOneTime: number };
  },
): Promise<{ state: DeviceState; tokens: Tokens }> {
  const accountKeyPair = await ctx.prims.ed25519.generateKeyPair(ctx.rng);
  const userId = (input.userId ?? uuidV7(ctx.rng, ctx.now)) as UserId;
  const deviceId = uuidV7(ctx.rng, ctx.now) as DeviceId;
  const accountSecretKey = asAccountSecretKey(accountKeyPair.secretKey);
  const nameCiphertext =
    input.deviceName === undefined
      ? undefined
      : await encryptDeviceName(ctx, accountSecretKey, userId, deviceId, input.deviceName);
  const state = await newDeviceState(ctx, {
    userId,
    deviceId,
    platform: input.platform,
    accountKeyPair,
  });
  state.deviceList = await signDeviceList(ctx, accountSecretKey, {
    userId,
    version: 1,
    previousHash: new Uint8Array(32),
    devices: [state.certificate],
  });
  const body: RegisterRequest = {
    userId,
    accountKey: toBase64Url(accountKeyPair.publicKey),
    device: {
      deviceId,
      secret: toBase64Url(state.deviceSecret),
      platform: input.platform,
      certificate: toBase64Url(encodeDeviceCertificate(state.certificate)),
      ...(nameCiphertext ? { nameCiphertext: toBase64Url(nameCiphertext) } : {}),
    },
    deviceList: toBase64Url(encodeDeviceList(state.deviceList)),
    keys: await initialPrekeys(ctx, state, input.prekeyCounts),
    proof: input.proof,
    ...(input.username ? { username: input.username } : {}),
    ...(input.secondFactor ? { secondFactor: input.secondFactor } : {}),
  };
  const tokens = await api.request<Tokens>("POST", "/api/v1/accounts", { body, auth: false });
  await api.setTokens(tokens);
  return { state, tokens };
}

/** Signs this device in with its secret (after its refresh token was lost or revoked). */
export async function signIn(api: ApiClient, state: DeviceState): Promise<Tokens> {
  const tokens = await api.request<Tokens>("POST", "/api/v1/auth/token", {
    auth: false,
    body: { grant: "device", deviceId: state.deviceId, secret: toBase64Url(state.deviceSecret) },
  });
  await api.setTokens(tokens);
  return tokens;
}

/**
 * Deletes this account: its keys, devices, tokens and profile go at once (the id stays as a
 * tombstone; the username is free again after 30 days). Every device's token stops working.
 */
export async function deleteAccount(api: ApiClient): Promise<void> {
  await api.request("DELETE", "/api/v1/account");
}

/** Who may see when this account was last online. */
export type LastSeenVisibility = "everyone" | "contacts" | "nobody";

/**
 * Sets who sees this account's last-seen time: everyone signed in, only the users this
 * account has added as contacts, or nobody.
 */
export async function setLastSeenVisibility(
  api: ApiClient,
  visibility: LastSeenVisibility,
): Promise<void> {
  await api.request("PUT", "/api/v1/account/settings", {
    body: { lastSeenVisibility: visibility },
  });
}

/**
 * Publishes more one-time prekeys when the server says the device is running low: each
 * kind on its own, the X25519 ones topped up to `target` when fewer than KEYS_LOW_ONE_TIME
 * are left, the ML-KEM ones to `pqTarget` when fewer than KEYS_LOW_PQ_ONE_TIME are left.
 * Returns how many of each it published (zeros when neither kind was low).
 */
export async function refillPrekeys(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
  target = ONE_TIME_PREKEYS,
  pqTarget = PQ_ONE_TIME_PREKEYS,
): Promise<{ oneTime: number; pqOneTime: number }> {
  const counts = await api.request<{ oneTime: number; pqOneTime: number }>(
    "GET",
    "/api/v1/keys/count",
  );
  const missing = {
    oneTime: counts.oneTime < KEYS_LOW_ONE_TIME ? Math.max(0, target - counts.oneTime) : 0,
    pqOneTime:
      counts.pqOneTime < KEYS_LOW_PQ_ONE_TIME ? Math.max(0, pqTarget - counts.pqOneTime) : 0,
  };
  if (missing.oneTime === 0 && missing.pqOneTime === 0) return missing;
  const upload = await makePrekeys(ctx, state, missing);
  await api.request("PUT", "/api/v1/keys", { body: upload, auth: true });
  return missing;
}

/** Replaces the signed prekey (do it regularly: a thief's copy of the old one goes stale). */
export async function rotateSignedPrekey(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
): Promise<number> {
  const upload = await makePrekeys(ctx, state, { signedPrekey: true });
  await api.request("PUT", "/api/v1/keys", { body: upload });
  return state.signedPrekeyId;
}

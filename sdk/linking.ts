import type { Tokens } from "../protocol/api/accounts.ts";
import { fromBase64Url, toBase64Url } from "../protocol/api/base64.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import type { KeyPair } from "../protocol/crypto/primitives.ts";
import { ParleyError } from "../protocol/errors.ts";
import type { SenderKeyDistribution } from "../protocol/groups/sender-key-wire.ts";
import { encodeDeviceCertificate } from "../protocol/identity/device-certificate.ts";
import {
  decodeDeviceList,
  encodeDeviceList,
  nextDeviceList,
} from "../protocol/identity/device-list.ts";
import { verifyDeviceList } from "../protocol/identity/device-list-verify.ts";
import { type DeviceId, isCanonicalId } from "../protocol/identity/ids.ts";
import { asAccountPublicKey, asAccountSecretKey } from "../protocol/identity/keys.ts";
import { encodeDeviceName, encryptDeviceName } from "../protocol/profile/device-name.ts";
import { parseLinkCode } from "../protocol/provisioning/link-code.ts";
import {
  createLinkRequest,
  openProvisioning,
  sealProvisioning,
} from "../protocol/provisioning/provisioning.ts";
import type { ApiClient } from "./api-client.ts";
import { type DeviceState, initialPrekeys, newDeviceState, type Platform } from "./device.ts";
import { syncOwnDeviceList } from "./devices.ts";
import { uuidV7 } from "./ids.ts";

/**
 * Linking a new device to an account (both sides). The new device opens a slot on the server
 * and shows a link payload — its link code (its whole ephemeral public key) and the slot id —
 * as a QR code or text. A signed-in device of the account reads it, seals the account key,
 * profile key, newest device list and the sender keys it holds to that key, and drops the
 * envelope in the slot. The new device opens it, certifies itself with the account key, signs
 * the next device-list version with itself in it, and registers. The server relays one
 * ciphertext and cannot learn the key it is sealed to.
 */

/** What the new device keeps while it waits for the envelope (from {@link startLinking}). */
export interface PendingLink {
  slotId: string;
  readToken: string;
  keyPair: KeyPair;
  /** What the new device shows (QR code and text): `<link code>/<slot id>`. */
  payload: string;
  expiresAt: number;
}

/**
 * Checks a slot id before it goes into a URL or a payload: the server issues canonical
 * lowercase UUIDs (server/domain/accounts/provisioning.ts), so anything else (`..`, a
 * slash) is refused here rather than sent somewhere unintended.
 */
function parseSlotId(slotId: unknown): string {
  if (!isCanonicalId(slotId)) {
    throw new ParleyError("invalid_request", "The link slot id is not valid.", {
      field: "slotId",
    });
  }
  return slotId;
}

/** New device: opens a slot and makes the payload to show. */
export async function startLinking(ctx: ProtocolContext, api: ApiClient): Promise<PendingLink> {
  const slot = await api.request<{ slotId: string; readToken: string; expiresAt: number }>(
    "POST",
    "/api/v1/provisioning",
    { auth: false },
  );
  const slotId = parseSlotId(slot.slotId);
  const { keyPair, code } = await createLinkRequest(ctx);
  return { ...slot, slotId, keyPair, payload: `${code}/${slotId}` };
}

/**
 * Existing device: seals the account's secrets to the payload's key and sends them, with the
 * newest device list verified from this device's own copy (the new device signs the version
 * after it, so a stale one would spend the slot on a list the server refuses). A payload that
 * does not parse is `invalid_key` (field `linkCode`), before anything is sent.
 */
export async function approveLinking(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
  payload: string,
  senderKeys: SenderKeyDistribution[] = [],
): Promise<void> {
  const parts = payload.trim().split("/");
  const [code, slotId] = parts;
  if (parts.length !== 2 || !code || !isCanonicalId(slotId))
    throw new ParleyError("invalid_key", "This link code is not valid; check it for typos.", {
      field: "linkCode",
    });
  const linkKey = parseLinkCode(code);
  const { list } = await syncOwnDeviceList(ctx, api, state);
  const envelope = await sealProvisioning(ctx, linkKey, {
    userId: state.userId,
    accountKeyPair: state.accountKeyPair,
    profileKey: state.profileKey,
    deviceList: encodeDeviceList(list),
    senderKeys,
    createdAt: ctx.now(),
  });
  await api.request("PUT", `/api/v1/provisioning/${slotId}`, {
    body: { envelope: toBase64Url(envelope) },
  });
}

/**
 * New device: waits for the envelope (long polling, until the slot expires), then registers
 * itself, with `deviceName` encrypted under the account key it received. Returns its state,
 * tokens and the sender keys it received (install them). A bad `deviceName` throws before
 * the envelope is fetched, so the link is not spent on it.
 */
export async function finishLinking(
  ctx: ProtocolContext,
  api: ApiClient,
  pending: PendingLink,
  options: {
    platform: Platform;
    /** This device's name (1–64 characters); only the account's devices can read it. */
    deviceName?: string;
    prekeyCounts?: { oneTime: number; pqOneTime: number };
  },
): Promise<{ state: DeviceState; tokens: Tokens; senderKeys: SenderKeyDistribution[] }> {
  if (options.deviceName !== undefined) encodeDeviceName(options.deviceName);
  const slotId = parseSlotId(pending.slotId);
  let envelope: string | undefined;
  while (!envelope) {
    if (ctx.now() > pending.expiresAt) throw new ParleyError("provisioning_not_found");
    const got = await api.request<{ envelope: string } | undefined>(
      "GET",
      `/api/v1/provisioning/${slotId}?wait=25`,
      {
        auth: false,
        headers: { "x-read-token": pending.readToken },
      },
    );
    envelope = got?.envelope;
  }
  const content = await openProvisioning(ctx, pending.keyPair, fromBase64Url(envelope, "envelope"));
  const accountKey = asAccountPublicKey(content.accountKeyPair.publicKey);
  const { list: current } = await verifyDeviceList(
    ctx,
    accountKey,
    decodeDeviceList(content.deviceList),
    { userId: content.userId },
  );
  const state = await newDeviceState(ctx, {
    userId: content.userId,
    deviceId: uuidV7(ctx.rng, ctx.now) as DeviceId,
    platform: options.platform,
    accountKeyPair: content.accountKeyPair,
    profileKey: content.profileKey,
  });
  const accountSecretKey = asAccountSecretKey(content.accountKeyPair.secretKey);
  state.deviceList = await nextDeviceList(ctx, accountSecretKey, current, [
    ...current.devices,
    state.certificate,
  ]);
  const nameCiphertext =
    options.deviceName === undefined
      ? undefined
      : await encryptDeviceName(
          ctx,
          accountSecretKey,
          state.userId,
          state.deviceId,
          options.deviceName,
        );
  const tokens = await api.request<Tokens>("POST", "/api/v1/devices", {
    auth: false,
    body: {
      userId: state.userId,
      device: {
        deviceId: state.deviceId,
        secret: toBase64Url(state.deviceSecret),
        platform: options.platform,
        certificate: toBase64Url(encodeDeviceCertificate(state.certificate)),
        ...(nameCiphertext ? { nameCiphertext: toBase64Url(nameCiphertext) } : {}),
      },
      deviceList: toBase64Url(encodeDeviceList(state.deviceList)),
      keys: await initialPrekeys(ctx, state, options.prekeyCounts),
    },
  });
  await api.setTokens(tokens);
  return { state, tokens, senderKeys: content.senderKeys };
}

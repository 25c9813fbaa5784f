import { fromBase64Url, toBase64Url } from "../protocol/api/base64.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { parseUserId } from "../protocol/identity/ids.ts";
import {
  decryptProfile,
  encryptProfile,
  type ProfileContent,
} from "../protocol/profile/profile.ts";
import type { ApiClient } from "./api-client.ts";
import type { DeviceState } from "./device.ts";

export type { ProfileContent };

/** A profile to publish; `updatedAt` defaults to now. */
export type ProfileDraft = Omit<ProfileContent, "updatedAt"> & { updatedAt?: number };

/**
 * Encrypts this account's profile under its profile key (bound to its user id) and stores
 * it; the server keeps only the ciphertext. Returns what was stored. Bad fields throw
 * before anything is sent (protocol/profile/profile.ts names the limits).
 */
export async function setProfile(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
  content: ProfileDraft,
): Promise<ProfileContent> {
  const stamped: ProfileContent = { ...content, updatedAt: content.updatedAt ?? ctx.now() };
  const sealed = await encryptProfile(ctx, state.profileKey, state.userId, stamped);
  await api.request("PUT", "/api/v1/account/profile", {
    body: { profileCiphertext: toBase64Url(sealed) },
  });
  return stamped;
}

/**
 * Fetches and decrypts a user's profile with their profile key (received inside a message,
 * or this account's own): the signed-in account's through `GET /account`, anyone else's
 * through `GET /users/:userId`. No profile stored is `undefined`; a key that does not open
 * it (rotated, or the wrong user's) is `decrypt_failed`; an unknown user is `user_not_found`.
 */
export async function fetchProfile(
  ctx: ProtocolContext,
  api: ApiClient,
  userId: string,
  profileKey: Uint8Array,
): Promise<ProfileContent | undefined> {
  const id = parseUserId(userId);
  const own = api.auth.tokens?.userId === id;
  const view = await api.request<{ profileCiphertext?: string }>(
    "GET",
    own ? "/api/v1/account" : `/api/v1/users/${id}`,
  );
  if (!view.profileCiphertext) return undefined;
  const sealed = fromBase64Url(view.profileCiphertext, "profileCiphertext");
  return decryptProfile(ctx, profileKey, id, sealed);
}

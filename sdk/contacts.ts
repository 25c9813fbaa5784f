import { fromBase64Url, toBase64Url } from "../protocol/api/base64.ts";
import type { ProtocolContext } from "../protocol/crypto/context.ts";
import { ParleyError } from "../protocol/errors.ts";
import { parseUserId, type UserId } from "../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../protocol/identity/keys.ts";
import {
  decryptContactNickname,
  encryptContactNickname,
} from "../protocol/profile/contact-nickname.ts";
import type { ApiClient } from "./api-client.ts";
import type { DeviceState } from "./device.ts";

/**
 * This account's contacts and blocks. The server keeps the list (it needs the blocked flag to
 * refuse a blocked user's messages, the list for "last seen: contacts"), but each nickname as
 * ciphertext under the account key, bound to the owner and the contact: every device of the
 * account reads it, the contact and the server cannot (protocol/profile/contact-nickname.ts).
 */

/** One contact as the server lists it, with its nickname decrypted. */
export interface ContactSummary {
  userId: UserId;
  /** Absent when none was set, or when it does not open (set under an older account key). */
  nickname?: string;
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
}

/** What `GET /contacts` returns for each contact (server/domain/accounts/contacts.ts). */
interface ContactRecord {
  userId: string;
  nicknameCiphertext?: string;
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
}

/**
 * This account's contacts, nicknames decrypted with the account key. A nickname that does
 * not open leaves `nickname` out instead of failing the whole list.
 */
export async function listContacts(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
): Promise<ContactSummary[]> {
  const { contacts } = await api.request<{ contacts: ContactRecord[] }>("GET", "/api/v1/contacts");
  return Promise.all(
    contacts.map(async ({ nicknameCiphertext, ...contact }) => {
      const userId = parseUserId(contact.userId);
      const nickname = nicknameCiphertext
        ? await openNickname(ctx, state, userId, nicknameCiphertext)
        : undefined;
      return { ...contact, userId, ...(nickname !== undefined ? { nickname } : {}) };
    }),
  );
}

async function openNickname(
  ctx: ProtocolContext,
  state: DeviceState,
  contactId: UserId,
  nicknameCiphertext: string,
): Promise<string | undefined> {
  try {
    return await decryptContactNickname(
      ctx,
      asAccountSecretKey(state.accountKeyPair.secretKey),
      state.userId,
      contactId,
      fromBase64Url(nicknameCiphertext, "nicknameCiphertext"),
    );
  } catch (err) {
    if (err instanceof ParleyError) return undefined;
    throw err;
  }
}

/**
 * Gives a user a nickname (`undefined` clears it), adding them as a contact if they were not
 * one; the blocked flag is left as it is. Nicknames are 1–64 characters: a bad one throws
 * before anything is sent. An unknown or deleted user is `user_not_found`.
 */
export async function setNickname(
  ctx: ProtocolContext,
  api: ApiClient,
  state: DeviceState,
  userId: string,
  nickname: string | undefined,
): Promise<void> {
  const contactId = parseUserId(userId);
  const sealed =
    nickname === undefined
      ? null
      : toBase64Url(
          await encryptContactNickname(
            ctx,
            asAccountSecretKey(state.accountKeyPair.secretKey),
            state.userId,
            contactId,
            nickname,
          ),
        );
  await putContact(api, contactId, { nicknameCiphertext: sealed });
}

/**
 * Blocks a user (the server refuses their messages to this account). Adds them as a contact
 * if they were not one; a nickname stays.
 */
export const blockUser = (api: ApiClient, userId: string) =>
  putContact(api, parseUserId(userId), { blocked: true });

/** Unblocks a user; they stay a contact. */
export const unblockUser = (api: ApiClient, userId: string) =>
  putContact(api, parseUserId(userId), { blocked: false });

/** Removes a contact with its nickname and block; `user_not_found` if it was not one. */
export async function removeContact(api: ApiClient, userId: string): Promise<void> {
  await api.request("DELETE", `/api/v1/contacts/${parseUserId(userId)}`);
}

async function putContact(
  api: ApiClient,
  contactId: UserId,
  body: { nicknameCiphertext?: string | null; blocked?: boolean },
): Promise<void> {
  await api.request("PUT", `/api/v1/contacts/${contactId}`, { body });
}

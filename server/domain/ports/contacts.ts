import type { UserId } from "../ports.ts";

export interface ContactRecord {
  contactUserId: UserId;
  nicknameCiphertext: Uint8Array | null;
  blocked: boolean;
  createdAt: number;
  updatedAt: number;
}

/** Each user's contacts and blocks (server/domain/accounts/contacts.ts). */
export interface ContactsStore {
  list(userId: UserId): Promise<ContactRecord[]>;
  /** Creates or changes a contact; fields left undefined keep their value. */
  put(
    userId: UserId,
    contactUserId: UserId,
    changes: { nicknameCiphertext?: Uint8Array | null; blocked?: boolean },
    now: number,
  ): Promise<void>;
  remove(userId: UserId, contactUserId: UserId): Promise<boolean>;
  /** Has `userId` blocked `otherUserId`? (Messaging rejects what a blocked user sends.) */
  isBlocked(userId: UserId, otherUserId: UserId): Promise<boolean>;
  /** The users who have `userId` among their contacts, blocks aside. */
  listedBy(userId: UserId): Promise<UserId[]>;
  /** Is `otherUserId` among `userId`'s contacts (not blocked)? For last-seen visibility. */
  isContact(userId: UserId, otherUserId: UserId): Promise<boolean>;
}

// The messaging API tests' fixture and builders: a real server (tests/support/accounts.ts)
// with the send limits out of the way, real sender-key messages sealed with the protocol
// code (the server decodes their clear header), signed membership log entries, key headers
// that only have to pass the server's clear-prefix check, and raw HTTP and WebSocket helpers.
import { expect } from "bun:test";
import { toBase64Url } from "../../protocol/api/base64.ts";
import type { ProtocolContext } from "../../protocol/crypto/context.ts";
import type { ErrorCode } from "../../protocol/errors.ts";
import {
  createSenderKey,
  encryptWithSenderKey,
  type OwnSenderKey,
} from "../../protocol/groups/sender-key.ts";
import {
  type ConversationId,
  type DeviceId,
  type UserId,
  writeId,
} from "../../protocol/identity/ids.ts";
import { asAccountSecretKey } from "../../protocol/identity/keys.ts";
import {
  encodeMembershipEntry,
  type MembershipEntryFields,
  signMembershipEntry,
} from "../../protocol/identity/membership-entry.ts";
import {
  appendMembershipEntry,
  createMembershipLog,
  type MembershipState,
} from "../../protocol/identity/membership-log.ts";
import type { MembershipAction } from "../../protocol/identity/membership-rules.ts";
import { encodeMessageContent } from "../../protocol/messages/content.ts";
import { directConversationId } from "../../protocol/messages/conversation-id.ts";
import { WireType, WireWriter } from "../../protocol/wire/codec.ts";
import { uuidV7 } from "../../sdk/ids.ts";
import { type AccountsFixture, accountsFixture, type TestUser } from "../support/accounts.ts";
import { openSocket } from "../support/ws.ts";

/** The per-user send and protocol budgets would stop a test that sends 30 messages. */
const MESSAGING_LIMITS_LIFTED = {
  PARLEY_LIMITS_MESSAGES_PER_MINUTE: "100000",
  PARLEY_LIMITS_PROTOCOL_PER_MINUTE: "100000",
  // A socket a failed test left open must not hold the shutdown for the default grace.
  PARLEY_HTTP_SHUTDOWN_GRACE_MS: "200",
};

export type Socket = Awaited<ReturnType<typeof openSocket>>;
export type HttpResult = Awaited<ReturnType<AccountsFixture["http"]>>;

/** A user's current access token. */
export const tokenOf = (u: TestUser) => u.api.auth.tokens!.accessToken;

/** A messaging server: the accounts fixture plus message, group and socket helpers. */
export async function messagingFixture(
  env: Record<string, string> = {},
  options: Parameters<typeof accountsFixture>[1] = {},
) {
  const f = await accountsFixture({ ...MESSAGING_LIMITS_LIFTED, ...env }, options);
  const { ctx } = f;
  const sockets: Socket[] = [];
  // One sender key per sending device and conversation, as a client keeps it.
  const senderKeys = new Map<string, OwnSenderKey>();

  /** `u`'s call to `/api/v1{path}` with its token. */
  const call = (
    u: TestUser,
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => f.http(method, `/api/v1${path}`, { token: tokenOf(u), body, headers });

  async function senderKeyOf(u: TestUser, conversationId: string, deviceId?: DeviceId) {
    const senderDeviceId = deviceId ?? u.state.deviceId;
    const key = `${senderDeviceId}/${conversationId}`;
    let own = senderKeys.get(key);
    if (!own) {
      own = await createSenderKey(ctx, {
        conversationId: conversationId as ConversationId,
        senderUserId: u.state.userId,
        senderDeviceId,
        previousVersion: 0,
        membershipEpoch: 0,
        membershipLogHash: new Uint8Array(32),
        deviceListVersion: 1,
      });
      senderKeys.set(key, own);
    }
    return own;
  }

  return {
    ...f,
    call,
    newId: () => uuidV7(ctx.rng, ctx.now),

    /**
     * A real sender-key message carrying a text: what the clear header names (conversation,
     * sender device, message id) is what the options say, the envelope's by default.
     */
    async sealText(
      u: TestUser,
      conversationId: string,
      text: string,
      options: { id?: string; senderDeviceId?: DeviceId } = {},
    ): Promise<SealedMessage> {
      const id = options.id ?? uuidV7(ctx.rng, ctx.now);
      const plaintext = encodeMessageContent({ type: "text", body: text, sentAt: ctx.now() });
      const own = await senderKeyOf(u, conversationId, options.senderDeviceId);
      const ciphertext = await encryptWithSenderKey(ctx, own, id, plaintext);
      return { id, conversationId, ciphertext: toBase64Url(ciphertext) };
    },

    /** Seals a text and sends it over HTTP; `extra` adds fields to the body (peerUserId…). */
    async sendText(
      u: TestUser,
      conversationId: string,
      text: string,
      extra: Record<string, unknown> = {},
    ) {
      const sealed = await this.sealText(u, conversationId, text);
      const res = await call(u, "POST", "/messages", { ...sealed, ...extra });
      return { sealed, res, seq: res.json?.seq as number };
    },

    /** Starts the direct conversation of `from` and `to` with a first text (201). */
    async startDirect(from: TestUser, to: TestUser, text = "hello") {
      const conversationId = directConversationId(from.state.userId, to.state.userId);
      const sent = await this.sendText(from, conversationId, text, { peerUserId: to.state.userId });
      expectStatus(sent.res, 201);
      return { conversationId, ...sent };
    },

    /** A WebSocket for `u`'s device, closed when the fixture is cleaned up. */
    async socket(u: TestUser): Promise<Socket> {
      const s = await openSocket(f.url, u.api);
      sockets.push(s);
      return s;
    },

    /** One socket per user, in order. */
    async sockets<T extends TestUser[]>(...users: T): Promise<{ [K in keyof T]: Socket }> {
      return (await Promise.all(users.map((u) => this.socket(u)))) as { [K in keyof T]: Socket };
    },

    /** Creates a group owned by `owner`; `change` appends signed entries through the API. */
    async group(owner: TestUser) {
      const id = uuidV7(ctx.rng, ctx.now) as ConversationId;
      const created = await createMembershipLog(ctx, accountKey(owner), {
        conversationId: id,
        actor: owner.state.userId,
      });
      const entry = toBase64Url(encodeMembershipEntry(created.entry));
      expectStatus(await call(owner, "POST", "/conversations", { id, entry }), 201);
      const group = {
        id,
        state: created.state as MembershipState,
        /** Every accepted entry, base64url, in log order. */
        entries: [entry],
        /** Signs the next entry as `actor` (the rules checked client-side) and posts it. */
        async change(actor: TestUser, action: MembershipAction) {
          const next = await appendMembershipEntry(
            ctx,
            accountKey(actor),
            group.state,
            actor.state.userId,
            action,
          );
          const encoded = toBase64Url(encodeMembershipEntry(next.entry));
          const res = await call(actor, "POST", `/conversations/${id}/membership`, {
            entry: encoded,
          });
          if (res.status === 200) {
            group.state = next.state;
            group.entries.push(encoded);
          }
          return res;
        },
        /** Signs any entry with `key`'s account key, bypassing the client's rule check. */
        async signed(
          signer: TestUser,
          fields: Partial<MembershipEntryFields> & Pick<MembershipEntryFields, "actor" | "action">,
        ) {
          const entry = await signMembershipEntry(ctx, accountKey(signer), {
            conversationId: id,
            epoch: group.state.epoch + 1,
            previousHash: group.state.latestHash,
            at: ctx.now(),
            ...fields,
          });
          return toBase64Url(encodeMembershipEntry(entry));
        },
      };
      return group;
    },

    /** A group of three new users: alice owns it, bob and carol are members. */
    async groupOfThree() {
      const [alice, bob, carol] = [await this.user(), await this.user(), await this.user()];
      const group = await this.group(alice);
      for (const u of [bob, carol]) {
        const added = await group.change(alice, {
          type: "add",
          target: u.state.userId,
          role: "member",
        });
        expectStatus(added, 200);
      }
      return { alice, bob, carol, group };
    },

    /** The ids `u` reads in a conversation's history, oldest first. */
    async historyIds(u: TestUser, conversationId: string) {
      const res = await call(u, "GET", `/conversations/${conversationId}/messages`);
      expectStatus(res, 200);
      return (res.json as { messages: { id: string }[] }).messages.map((m) => m.id).reverse();
    },

    /** The ids of a conversation's messages in `u`'s sync from the start, in order. */
    async syncedIds(u: TestUser, conversationId: string) {
      const res = await call(u, "GET", "/sync");
      expectStatus(res, 200);
      return (res.json as { messages: { id: string; conversationId: string }[] }).messages
        .filter((m) => m.conversationId === conversationId)
        .map((m) => m.id);
    },

    async cleanup() {
      for (const s of sockets) s.ws.close();
      await f.cleanup();
    },
  };
}

export type MessagingFixture = Awaited<ReturnType<typeof messagingFixture>>;

/** A sealed message as the send body carries it. */
export interface SealedMessage {
  id: string;
  conversationId: string;
  ciphertext: string;
}

const accountKey = (u: TestUser) => asAccountSecretKey(u.state.accountKeyPair.secretKey);

/**
 * A key header that passes the server's check only: the server decodes a header's clear
 * prefix (recipient user and device, signed prekey id, ephemeral key) and stores the rest
 * unread, so random bytes stand in for the sealed pairwise message. The real sealing
 * (sealKeyHeader) needs pairwise sessions the server never sees.
 */
export function structuralKeyHeader(
  ctx: ProtocolContext,
  recipient: { userId: UserId; deviceId: DeviceId },
): string {
  const w = new WireWriter(WireType.keyHeader);
  writeId(w, recipient.userId, "recipientUserId");
  writeId(w, recipient.deviceId, "recipientDeviceId");
  w.varint(1)
    .fixed(ctx.rng(32), 32, "ephemeralKey")
    .bytes(ctx.rng(96), 4096 + 16, "ciphertext");
  return toBase64Url(w.finish());
}

/** Fails with what the server said when the status (or the error code) is not the one wanted. */
export function expectStatus(res: HttpResult, status: number, code?: ErrorCode): void {
  if (res.status !== status || (code !== undefined && res.json?.code !== code)) {
    throw new Error(
      `expected ${status}${code ? ` ${code}` : ""}, got ${res.status}: ${res.text.slice(0, 300)}`,
    );
  }
}

/** A catalogue error: the status, the code, and the `{code, message}` body. */
export function expectError(res: HttpResult, status: number, code: ErrorCode, field?: string) {
  expectStatus(res, status, code);
  expect(typeof res.json?.message).toBe("string");
  if (field !== undefined) expect(res.json?.details).toEqual({ field });
}

/** Polls `check` until it returns something truthy (or fails after `timeoutMs`). */
export async function eventually<T>(
  check: () => T | Promise<T>,
  timeoutMs = 5_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await Bun.sleep(25);
  }
}

/** Every frame of a type a socket received so far. */
export const framesOf = (s: Socket, type: string) => s.frames.filter((f) => f.type === type);

/**
 * Waits for the frame of `type` matching `match` (frames already received included): a
 * socket's `next` only returns the first of a type.
 */
export async function frame(
  s: Socket,
  type: string,
  match: (f: Record<string, unknown>) => boolean = () => true,
  timeoutMs = 5_000,
): Promise<Record<string, unknown>> {
  try {
    return await eventually(() => framesOf(s, type).find(match), timeoutMs);
  } catch {
    throw new Error(`no matching '${type}' frame; got ${JSON.stringify(s.frames).slice(0, 2000)}`);
  }
}

/**
 * Proves a socket got nothing of `type`: a ping sent after the cause comes back as a pong
 * only once the server handled everything before it, and events are sent synchronously on
 * the server, so a frame the cause produced would have arrived first.
 */
export async function settle(s: Socket): Promise<void> {
  const pongs = framesOf(s, "pong").length;
  s.ws.send(JSON.stringify({ type: "ping" }));
  await eventually(() => framesOf(s, "pong").length > pongs);
}

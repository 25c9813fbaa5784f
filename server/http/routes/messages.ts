import { Elysia, t } from "elysia";
import { Id } from "../../../protocol/api/accounts.ts";
import { toBase64Url } from "../../../protocol/api/base64.ts";
import {
  CreateGroup,
  MembershipRequest,
  Position,
  SendMessage,
  SendToDevice,
} from "../../../protocol/api/messages.ts";
import { ParleyError } from "../../../protocol/errors.ts";
import type { ConversationId } from "../../../protocol/identity/ids.ts";
import type { MembershipService } from "../../domain/messaging/membership.ts";
import type { MessageService } from "../../domain/messaging/messages.ts";
import type { SyncService } from "../../domain/messaging/sync.ts";
import type { ToDeviceService } from "../../domain/messaging/to-device.ts";
import { enforceLimit, MINUTE, QueryInteger, queryInteger } from "../guards.ts";
import { type AccountRoutesDeps, routeKit } from "./context.ts";

/** What the messaging routes need. */
export interface MessagingRoutesDeps
  extends Pick<AccountRoutesDeps, "config" | "tokens" | "limiter"> {
  messages: MessageService;
  membership: MembershipService;
  toDevice: ToDeviceService;
  sync: SyncService;
}

/** Most messages one history page returns. */
const HISTORY_LIMIT = 200;

const ConversationParams = t.Object({ conversationId: Id("The conversation") });

/** Conversations, messages, receipts, to-device envelopes and sync (docs/PROTOCOL.md §14). */
export function messagingRoutes(deps: MessagingRoutesDeps) {
  const { deadline, signedIn } = routeKit(deps);
  const tags = ["messages"];
  return new Elysia({ name: "messaging" })
    .post(
      "/messages",
      async ({ body, headers, request, set }) =>
        deadline(async () => {
          const me = await signedIn(request, "protocol");
          const key = headers["idempotency-key"];
          if (key !== undefined && key !== body.id) {
            throw new ParleyError("invalid_request", "Idempotency-Key must be the message id.", {
              field: "headers.idempotency-key",
            });
          }
          await enforceLimit(
            deps.limiter,
            `messages:${me.userId}`,
            deps.config.limits.messages_per_minute,
            MINUTE,
          );
          const sent = await deps.messages.send(me, body);
          set.status = sent.duplicate ? 200 : 201;
          return sent;
        }),
      {
        body: SendMessage,
        detail: {
          summary: "Send a message: stored durably before the answer; a retry is stored once",
          tags,
        },
      },
    )
    .delete(
      "/messages/:id",
      async ({ params, request, set }) =>
        deadline(async () => {
          await deps.messages.deleteForEveryone(await signedIn(request), params.id);
          set.status = 204;
        }),
      {
        params: t.Object({ id: Id("The message") }),
        detail: { summary: "Delete a message for everyone (its ciphertext is erased)", tags },
      },
    )
    .get(
      "/conversations",
      async ({ request }) =>
        deadline(async () => {
          const list = await deps.membership.list(await signedIn(request));
          return { conversations: list.map(conversationView) };
        }),
      { detail: { summary: "Your conversations, with positions for unread counts", tags } },
    )
    .post(
      "/conversations",
      async ({ body, request, set }) =>
        deadline(async () => {
          const created = await deps.membership.create(
            await signedIn(request),
            body.id as ConversationId,
            { entry: body.entry },
          );
          set.status = 201;
          return created;
        }),
      {
        body: CreateGroup,
        detail: { summary: "Create a group from its signed create entry", tags },
      },
    )
    .get(
      "/conversations/:conversationId",
      async ({ params, request }) =>
        deadline(async () => {
          const { conversation, members } = await deps.membership.get(
            await signedIn(request),
            params.conversationId as ConversationId,
          );
          return { ...conversationView(conversation), members };
        }),
      { params: ConversationParams, detail: { summary: "A conversation and its members", tags } },
    )
    .post(
      "/conversations/:conversationId/membership",
      async ({ params, body, request }) =>
        deadline(async () =>
          deps.membership.change(
            await signedIn(request),
            params.conversationId as ConversationId,
            body,
          ),
        ),
      {
        params: ConversationParams,
        body: MembershipRequest,
        detail: { summary: "Change a group: a signed membership log entry", tags },
      },
    )
    .get(
      "/conversations/:conversationId/membership",
      async ({ params, query, request }) =>
        deadline(async () => ({
          entries: await deps.membership.log(
            await signedIn(request, "protocol"),
            params.conversationId as ConversationId,
            query.after === undefined
              ? -1
              : queryInteger(query.after, Number.MAX_SAFE_INTEGER, "after"),
          ),
        })),
      {
        params: ConversationParams,
        query: t.Object({
          after: QueryInteger(Number.MAX_SAFE_INTEGER, "Entries after this epoch"),
        }),
        detail: { summary: "A group's signed membership log", tags },
      },
    )
    .get(
      "/conversations/:conversationId/messages",
      async ({ params, query, request }) =>
        deadline(async () => ({
          messages: await deps.messages.history(
            await signedIn(request),
            params.conversationId as ConversationId,
            {
              ...(query.before
                ? { beforeSeq: queryInteger(query.before, Number.MAX_SAFE_INTEGER, "before") }
                : {}),
              limit: queryInteger(query.limit, HISTORY_LIMIT, "limit") || 50,
            },
          ),
        })),
      {
        params: ConversationParams,
        query: t.Object({
          before: QueryInteger(Number.MAX_SAFE_INTEGER, "Messages before this sequence"),
          limit: QueryInteger(HISTORY_LIMIT, "How many (default 50)"),
        }),
        detail: { summary: "History, newest first, for scrolling back", tags },
      },
    )
    .put(
      "/conversations/:conversationId/delivered",
      async ({ params, body, request, set }) =>
        deadline(async () => {
          await deps.messages.delivered(
            await signedIn(request, "protocol"),
            params.conversationId as ConversationId,
            body.seq,
          );
          set.status = 204;
        }),
      {
        params: ConversationParams,
        body: Position,
        detail: { summary: "This device has the conversation up to seq", tags },
      },
    )
    .put(
      "/conversations/:conversationId/read",
      async ({ params, body, request, set }) =>
        deadline(async () => {
          await deps.messages.read(
            await signedIn(request, "protocol"),
            params.conversationId as ConversationId,
            body.seq,
          );
          set.status = 204;
        }),
      {
        params: ConversationParams,
        body: Position,
        detail: { summary: "You read the conversation up to seq (forward only)", tags },
      },
    )
    .put(
      "/messages/:id/read",
      async ({ params, request, set }) =>
        deadline(async () => {
          await deps.messages.readUpTo(await signedIn(request, "protocol"), params.id);
          set.status = 204;
        }),
      {
        params: t.Object({ id: Id("The message") }),
        detail: { summary: "You read up to this message (forward only)", tags },
      },
    )
    .post(
      "/to-device",
      async ({ body, request, set }) =>
        deadline(async () => {
          const sent = await deps.toDevice.send(
            await signedIn(request, "protocol"),
            body.envelopes,
          );
          set.status = 201;
          return sent;
        }),
      { body: SendToDevice, detail: { summary: "Envelopes for other devices' inboxes", tags } },
    )
    .delete(
      "/to-device",
      async ({ query, request, set }) =>
        deadline(async () => {
          await deps.toDevice.ack(
            await signedIn(request, "protocol"),
            queryInteger(query.upTo, Number.MAX_SAFE_INTEGER, "upTo"),
          );
          set.status = 204;
        }),
      {
        query: t.Object({
          upTo: QueryInteger(Number.MAX_SAFE_INTEGER, "Acknowledged up to this position"),
        }),
        detail: { summary: "Acknowledge (delete) this device's envelopes up to a position", tags },
      },
    )
    .get(
      "/sync",
      async ({ query, request }) =>
        deadline(async () =>
          deps.sync.page(
            await signedIn(request, "protocol"),
            query.cursor,
            query.limit ? queryInteger(query.limit, 500, "limit") : undefined,
          ),
        ),
      {
        query: t.Object({
          cursor: t.Optional(t.String({ maxLength: 80, description: "From the previous page" })),
          limit: QueryInteger(500, "Items per stream (default 500)"),
        }),
        detail: { summary: "Everything this device has not seen, in pages", tags },
      },
    );
}

/** A conversation as clients see it (binary values base64url). */
function conversationView(c: {
  id: string;
  kind: string;
  lastSeq: number;
  membershipEpoch: number | null;
  announcementsOnly: boolean;
  infoCiphertext: Uint8Array | null;
  updatedAt: number;
  readSeq?: number;
  deliveredSeq?: number;
  role?: string | null;
}) {
  return {
    conversationId: c.id,
    kind: c.kind,
    lastSeq: c.lastSeq,
    ...(c.membershipEpoch !== null ? { membershipEpoch: c.membershipEpoch } : {}),
    announcementsOnly: c.announcementsOnly,
    ...(c.infoCiphertext ? { infoCiphertext: toBase64Url(c.infoCiphertext) } : {}),
    updatedAt: c.updatedAt,
    ...(c.role !== undefined ? { role: c.role } : {}),
    ...(c.readSeq !== undefined ? { readSeq: c.readSeq, deliveredSeq: c.deliveredSeq } : {}),
  };
}

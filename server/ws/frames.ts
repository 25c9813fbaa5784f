import { type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Id } from "../../protocol/api/accounts.ts";
import { SendMessage } from "../../protocol/api/messages.ts";
import { ParleyError } from "../../protocol/errors.ts";
import type { ConversationId } from "../../protocol/identity/ids.ts";
import type { Principal } from "../domain/accounts/tokens.ts";
import type { MessageService } from "../domain/messaging/messages.ts";
import type { ToDeviceService } from "../domain/messaging/to-device.ts";
import type { Logger } from "../lib/log.ts";

/** The frames a client may send, each checked against its schema before anything runs. */
const FRAMES = {
  ping: Type.Object({ type: Type.Literal("ping") }),
  send: Type.Composite([Type.Object({ type: Type.Literal("send") }), SendMessage]),
  delivered: Type.Object({
    type: Type.Literal("delivered"),
    conversationId: Id("The conversation"),
    seq: Type.Integer({ minimum: 0 }),
  }),
  read: Type.Object({
    type: Type.Literal("read"),
    conversationId: Id("The conversation"),
    seq: Type.Integer({ minimum: 0 }),
  }),
  typing: Type.Object({
    type: Type.Literal("typing"),
    conversationId: Id("The conversation"),
    typing: Type.Boolean(),
  }),
  to_device_ack: Type.Object({
    type: Type.Literal("to_device_ack"),
    upTo: Type.Integer({ minimum: 0 }),
  }),
} satisfies Record<string, TSchema>;

type FrameType = keyof typeof FRAMES;
const CHECKERS = Object.fromEntries(
  Object.entries(FRAMES).map(([k, schema]) => [k, TypeCompiler.Compile(schema)]),
) as { [K in FrameType]: ReturnType<typeof TypeCompiler.Compile<(typeof FRAMES)[K]>> };

/** What a frame handler needs. `limit` counts one event against a per-user budget. */
export interface FrameDeps {
  messages: MessageService;
  toDevice: ToDeviceService;
  limit(principal: Principal, budget: "messages" | "protocol"): Promise<void>;
  log: Logger;
}

/** An `error` frame: the catalogue body, with the id of the frame it answers when it had one. */
export function errorFrame(err: unknown, ref?: string) {
  const e = err instanceof ParleyError ? err : new ParleyError("internal");
  return { type: "error", ...(ref ? { ref } : {}), ...e.toBody() };
}

/** The frame's type, checked, or a catalogue error naming what is wrong. */
function checked(raw: unknown): { type: FrameType } & Record<string, unknown> {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new ParleyError("malformed_body", "A frame is a JSON object.");
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== "string" || !(type in FRAMES))
    throw new ParleyError("invalid_request", "Unknown frame type.", { field: "type" });
  const checker = CHECKERS[type as FrameType];
  if (!checker.Check(raw)) {
    const first = checker.Errors(raw).First();
    const field = first?.path ? first.path.slice(1).replaceAll("/", ".") : "frame";
    throw new ParleyError("invalid_request", `${field}: ${first?.message ?? "is not valid"}`, {
      field,
    });
  }
  return raw as { type: FrameType } & Record<string, unknown>;
}

/**
 * Runs one client frame and returns the frame to answer with, if any: `pong`, `sent` (after
 * the message is durably stored) or `error` (with `ref`, the frame's message id, when there
 * was one). Never throws: a bad frame costs the client an error frame, not its connection.
 */
export function frameHandler(deps: FrameDeps) {
  return async (principal: Principal, raw: unknown): Promise<object | undefined> => {
    const ref =
      typeof raw === "object" && raw !== null && typeof (raw as { id?: unknown }).id === "string"
        ? ((raw as { id: string }).id.slice(0, 64) as string)
        : undefined;
    try {
      const frame = checked(raw);
      switch (frame.type) {
        case "ping":
          return { type: "pong" };
        case "send": {
          await deps.limit(principal, "messages");
          const { type: _type, ...request } = frame as unknown as { type: "send" } & SendMessage;
          const sent = await deps.messages.send(principal, request);
          return { type: "sent", ...sent };
        }
        case "delivered":
        case "read": {
          await deps.limit(principal, "protocol");
          const { conversationId, seq } = frame as unknown as {
            conversationId: ConversationId;
            seq: number;
          };
          if (frame.type === "delivered")
            await deps.messages.delivered(principal, conversationId, seq);
          else await deps.messages.read(principal, conversationId, seq);
          return undefined;
        }
        case "typing": {
          await deps.limit(principal, "protocol");
          const { conversationId, typing } = frame as unknown as {
            conversationId: ConversationId;
            typing: boolean;
          };
          await deps.messages.typing(principal, conversationId, typing);
          return undefined;
        }
        case "to_device_ack":
          await deps.limit(principal, "protocol");
          await deps.toDevice.ack(principal, (frame as unknown as { upTo: number }).upTo);
          return undefined;
      }
    } catch (err) {
      if (!(err instanceof ParleyError)) deps.log.error("ws frame failed", { error: err });
      return errorFrame(err, ref);
    }
  };
}

export type FrameHandler = ReturnType<typeof frameHandler>;

import { Elysia, t } from "elysia";
import { ParleyError } from "../../protocol/errors.ts";
import type { Principal, TokenService } from "../domain/accounts/tokens.ts";
import type { DeviceEvent, EventBus } from "../domain/ports/events.ts";
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../lib/metrics.ts";
import { errorFrame, type FrameHandler } from "./frames.ts";

/** The seed's WebSocket keep-alive: a ping every 30 s; two missed pongs close the socket. */
export const PING_INTERVAL_MS = 30_000;
/** Largest frame a client may send unless the caller says otherwise (a `send` with headers). */
export const MAX_FRAME_BYTES = 1024 * 1024;
/** A client that reads slower than this many queued bytes is dropped (it catches up later). */
export const BACKPRESSURE_LIMIT_BYTES = 1024 * 1024;

/** Close codes the client can act on (4000–4999 are the application's). */
export const CLOSE = { replaced: 4001, revoked: 4003, noPong: 4008 } as const;

interface Connection {
  principal: Principal;
  send(frame: object): void;
  close(code: number, reason: string): void;
  ping(): void;
  missedPongs: number;
  unsubscribe: () => void;
}

/**
 * GET /api/v1/ws?ticket=… — one socket per device (a second one replaces the first), opened
 * with a one-time ticket (browsers cannot send an Authorization header at upgrade). The
 * server pushes events as JSON frames `{ "type": …, … }`; the client sends frames that
 * `frames.ts` runs (ping, send, delivered, read, typing, to_device_ack). A `new_message`
 * reaches each device with its own key header only, and not the device that sent it.
 */
export function websocketGateway(deps: {
  tokens: TokenService;
  events: EventBus;
  metrics: Metrics;
  log: Logger;
  /**
   * Called when a device connects and when it disconnects (last seen, presence). The
   * connect call comes before an older socket of the device is told to close.
   */
  onPresence?: (principal: Principal, state: "connected" | "disconnected") => Promise<void>;
  /** Runs client frames other than the gateway's own; without it only `ping` works. */
  frames?: FrameHandler;
  maxFrameBytes?: number;
  pingIntervalMs?: number;
}) {
  const byId = new Map<string, Connection>();
  const interval = deps.pingIntervalMs ?? PING_INTERVAL_MS;
  // One keep-alive timer for every connection (one per connection cost memory at scale):
  // each tick pings them all and closes those that missed two pongs. Runs only while a
  // socket is open.
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  const tick = () => {
    for (const c of byId.values()) {
      if (c.missedPongs >= 2) {
        c.close(CLOSE.noPong, "no pong");
        continue;
      }
      c.missedPongs++;
      c.ping();
    }
  };
  const presence = (principal: Principal, state: "connected" | "disconnected") =>
    deps
      .onPresence?.(principal, state)
      .catch((err) => deps.log.warn("ws presence failed", { error: err }));

  const deliver = (c: Connection) => (event: DeviceEvent) => {
    if (event.type === "new_message") {
      const { deviceId } = c.principal;
      if (event.excludeDevice === deviceId) return;
      const keyHeader = event.keyHeaders?.[deviceId];
      c.send({
        type: "new_message",
        message: keyHeader ? { ...event.message, keyHeader } : event.message,
      });
      return;
    }
    c.send(event);
    if (event.type === "revoked") c.close(CLOSE.revoked, "device revoked");
    if (event.type === "replaced") c.close(CLOSE.replaced, "replaced by a newer connection");
  };

  return new Elysia({ name: "ws" }).ws("/ws", {
    query: t.Object({ ticket: t.String({ minLength: 10, maxLength: 200 }) }),
    maxPayloadLength: deps.maxFrameBytes ?? MAX_FRAME_BYTES,
    backpressureLimit: BACKPRESSURE_LIMIT_BYTES,
    closeOnBackpressureLimit: true,
    // resolve runs once per upgrade (beforeHandle would run twice: STACK-NOTES): spend the
    // ticket here.
    async resolve({ query }: { query: { ticket: string } }) {
      return { principal: await deps.tokens.spendWsTicket(query.ticket) };
    },
    async open(ws) {
      const principal = (ws.data as unknown as { principal: Principal }).principal;
      // Counted as connected before an older socket of this device closes (below), so a
      // takeover never looks like the user went offline.
      const connected = presence(principal, "connected");
      // Through the bus, so an older socket of this device closes on whichever node holds
      // it. Sent before this connection subscribes, so it never reaches the new socket.
      deps.events.toDevice(principal.deviceId, { type: "replaced" });
      const connection: Connection = {
        principal,
        send: (frame) => {
          // -1: dropped for backpressure (the socket is closing), 0: not sent.
          if (ws.send(JSON.stringify(frame)) === -1)
            deps.log.debug("ws frame dropped", { device: principal.deviceId });
        },
        close: (code, reason) => ws.close(code, reason),
        ping: () => ws.raw.ping(),
        missedPongs: 0,
        unsubscribe: () => {},
      };
      connection.unsubscribe = deps.events.subscribe({
        ...principal,
        deliver: deliver(connection),
      });
      byId.set(ws.id, connection);
      keepAlive ??= setInterval(tick, interval);
      deps.metrics.wsConnections.inc();
      connection.send({ type: "ready", deviceId: principal.deviceId });
      await connected;
    },
    pong(ws) {
      // Elysia hands pong the raw Bun socket, whose id lives in its data.
      const c = byId.get((ws as unknown as { data: { id: string } }).data.id);
      if (c) c.missedPongs = 0;
    },
    async message(ws, raw) {
      const c = byId.get(ws.id);
      if (!c) return;
      if (!deps.frames) {
        const ping = (raw as { type?: unknown } | null)?.type === "ping";
        c.send(
          ping
            ? { type: "pong" }
            : errorFrame(new ParleyError("invalid_request", "Unknown frame type.")),
        );
        return;
      }
      const reply = await deps.frames(c.principal, raw);
      if (reply) c.send(reply);
    },
    close(ws) {
      const c = byId.get(ws.id);
      if (!c) return;
      byId.delete(ws.id);
      if (byId.size === 0 && keepAlive !== undefined) {
        clearInterval(keepAlive);
        keepAlive = undefined;
      }
      c.unsubscribe();
      deps.metrics.wsConnections.dec();
      void presence(c.principal, "disconnected");
    },
  });
}

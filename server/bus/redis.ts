import { RedisClient } from "bun";
import type { DeviceEvent, EventBus } from "../domain/ports/events.ts";
import type { DeviceId, UserId } from "../domain/ports.ts";
import type { Logger } from "../lib/log.ts";
import { redisErrorReason } from "../lib/redis-reason.ts";
import { memoryEventBus } from "./memory.ts";

/**
 * The one channel every node publishes to and listens on. Each node receives every event and
 * drops those for devices it does not hold. Per-user channels would spare that, but cost a
 * SUBSCRIBE/UNSUBSCRIBE per connecting user and a re-subscription of thousands of channels
 * after each reconnect; the events here (key and device-list changes, takeovers) are few and
 * small, so one channel is simpler and cheap until fan-out traffic says otherwise.
 */
export const CHANNEL = "parley:events";
/** Bound on establishing a connection, so a blackholed Redis cannot stall reconnecting. */
export const CONNECT_TIMEOUT_MS = 2_000;
/** While Redis is unreachable, try to reconnect this often. */
export const RECONNECT_INTERVAL_MS = 1_000;
/**
 * Publications awaiting Redis's reply. More than this means Redis accepts but does not answer
 * (a paused process, a full network buffer): the link counts as lost rather than queueing
 * events without bound.
 */
export const MAX_PENDING_PUBLISHES = 1_000;

/** What travels on CHANNEL: small JSON, the event itself and whom it is for; never secrets. */
interface Envelope {
  /** The publishing node, so it can ignore its own publication. */
  node: string;
  to: "device" | "user" | "users";
  /** A device or user id; for `users`, the ids joined by commas. */
  id: string;
  event: DeviceEvent;
}

export interface RedisEventBusOptions {
  /** Gets one warning when Redis becomes unreachable and one note when it is back. */
  log?: Logger;
  reconnectIntervalMs?: number;
  connectTimeoutMs?: number;
}

/** The Redis-backed bus, with its health visible to the caller. */
export interface RedisEventBus extends EventBus {
  /** False while Redis is unreachable and events reach this node's devices only. */
  readonly healthy: boolean;
  /** Stops publishing and listening; local subscriptions are left to their sockets. */
  close(): Promise<void>;
}

/** A connected pair: publishing and listening need separate connections (STACK-NOTES 15). */
interface Link {
  publisher: RedisClient;
  subscriber: RedisClient;
}

/**
 * Event fan-out across nodes: delivers to this node's devices at once (as memory.ts does) and
 * publishes the event on CHANNEL, where every other node delivers it to its own devices.
 *
 * Delivery stays best effort, as the port says: while Redis is down, events still reach this
 * node's devices, other nodes' devices miss them and catch up over HTTP when they reconnect.
 * The outage is logged once and the bus reconnects on its own. Reconnection is ours, not Bun's
 * `autoReconnect`: Bun's gives up after `maxRetries` (about 30 s) and does not restore
 * subscriptions, and subscribing again on the same client would register the listener twice.
 * So each attempt opens a fresh pair of connections.
 */
export function redisEventBus(url: string, options: RedisEventBusOptions = {}): RedisEventBus {
  const local = memoryEventBus();
  const node = crypto.randomUUID();
  const reconnectIntervalMs = options.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  let link: Link | undefined;
  let healthy = true;
  let closed = false;
  let pending = 0;
  let retry: ReturnType<typeof setTimeout> | undefined;

  const reasonOf = redisErrorReason(url);

  const setHealthy = (value: boolean, error?: unknown) => {
    if (value === healthy || closed) return;
    healthy = value;
    if (value) options.log?.info("event fan-out through redis again");
    else {
      options.log?.warn(
        "redis unreachable: events reach this node's devices only until it is back",
        {
          reason: reasonOf(error),
        },
      );
    }
  };

  const drop = (dead: Link) => {
    dead.publisher.onclose = null;
    dead.subscriber.onclose = null;
    dead.publisher.close();
    dead.subscriber.close();
  };

  const lost = (dead: Link, error: unknown) => {
    if (link !== dead) return;
    link = undefined;
    pending = 0;
    drop(dead);
    setHealthy(false, error);
    scheduleReconnect();
  };

  const receive = (message: string) => {
    if (closed) return;
    const envelope = parseEnvelope(message);
    if (envelope === undefined) {
      options.log?.debug("ignored a malformed event from redis");
      return;
    }
    if (envelope.node === node) return;
    if (envelope.to === "device") local.toDevice(envelope.id as DeviceId, envelope.event);
    else if (envelope.to === "user") local.toUser(envelope.id as UserId, envelope.event);
    else local.toUsers(envelope.id.split(",") as UserId[], envelope.event);
  };

  const connect = async () => {
    const clientOptions = {
      autoReconnect: false,
      // A publication while disconnected fails at once instead of waiting in a queue.
      enableOfflineQueue: false,
      connectionTimeout: connectTimeoutMs,
    };
    const next: Link = {
      publisher: new RedisClient(url, clientOptions),
      subscriber: new RedisClient(url, clientOptions),
    };
    try {
      await next.publisher.connect();
      await next.subscriber.connect();
      await next.subscriber.subscribe(CHANNEL, receive);
    } catch (error) {
      drop(next);
      throw error;
    }
    if (closed) {
      drop(next);
      return;
    }
    const onclose = (error: Error) => lost(next, error);
    next.publisher.onclose = onclose;
    next.subscriber.onclose = onclose;
    link = next;
    setHealthy(true);
  };

  const attempt = () => {
    retry = undefined;
    if (closed) return;
    connect().catch((error: unknown) => {
      setHealthy(false, error);
      scheduleReconnect();
    });
  };

  function scheduleReconnect() {
    if (closed || retry !== undefined) return;
    retry = setTimeout(attempt, reconnectIntervalMs);
    // Reconnecting must never be what keeps the process alive.
    retry.unref();
  }

  const publish = (to: Envelope["to"], id: string, event: DeviceEvent) => {
    const current = link;
    // Down: already logged, and the reconnect timer is running.
    if (current === undefined || closed) return;
    if (pending >= MAX_PENDING_PUBLISHES) {
      lost(current, new Error(`${pending} publications without a reply`));
      return;
    }
    pending++;
    const envelope: Envelope = { node, to, id, event };
    current.publisher.publish(CHANNEL, JSON.stringify(envelope)).then(
      () => {
        if (link === current) pending--;
      },
      (error: unknown) => lost(current, error),
    );
  };

  attempt();

  return {
    toDevice(deviceId, event) {
      local.toDevice(deviceId, event);
      publish("device", deviceId, event);
    },
    toUser(userId, event) {
      local.toUser(userId, event);
      publish("user", userId, event);
    },
    toUsers(userIds, event) {
      if (userIds.length === 0) return;
      local.toUsers(userIds, event);
      publish("users", userIds.join(","), event);
    },
    subscribe: (subscription) => local.subscribe(subscription),
    async close() {
      closed = true;
      clearTimeout(retry);
      if (link) drop(link);
      link = undefined;
    },
    get healthy() {
      return healthy;
    },
  };
}

/** Checks the envelope's shape; the channel is inside the deployment, so no deeper check. */
function parseEnvelope(message: string): Envelope | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const { node, to, id, event } = value as Record<string, unknown>;
  const valid =
    typeof node === "string" &&
    (to === "device" || to === "user" || to === "users") &&
    typeof id === "string" &&
    typeof event === "object" &&
    event !== null &&
    typeof (event as { type?: unknown }).type === "string";
  return valid ? (value as Envelope) : undefined;
}

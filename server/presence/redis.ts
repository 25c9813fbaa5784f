import { RedisClient } from "bun";
import type { PresenceStore } from "../domain/ports/presence.ts";
import type { DeviceId, UserId } from "../domain/ports.ts";
import type { Logger } from "../lib/log.ts";
import { redisErrorReason } from "../lib/redis-reason.ts";
import { localPresence } from "./memory.ts";
import { CONNECT, DISCONNECT, ONLINE, REFRESH } from "./redis-scripts.ts";

/** Every key this store writes starts with this (`parley:presence:<userId>`). */
export const KEY_PREFIX = "parley:presence:";
/** Each node refreshes its own devices this often. */
export const HEARTBEAT_INTERVAL_MS = 30_000;
/** A device not refreshed for this many heartbeats (its node crashed) counts as gone. */
export const HEARTBEATS_TO_LIVE = 3;
/** Presence sits on the connect path and the send path: past this, use this node's view. */
export const COMMAND_TIMEOUT_MS = 500;
/** Bound on establishing a connection, so a blackholed Redis cannot stall reconnecting. */
export const CONNECT_TIMEOUT_MS = 2_000;
/** While Redis is unreachable, try to reconnect this often. */
export const RECONNECT_INTERVAL_MS = 1_000;
/** Users per `online` script call, so one call never holds Redis for long. */
export const ONLINE_BATCH = 500;

export interface RedisPresenceOptions {
  /** Gets one warning when Redis becomes unreachable and one note when it is back. */
  log?: Logger;
  heartbeatIntervalMs?: number;
  commandTimeoutMs?: number;
  reconnectIntervalMs?: number;
  connectTimeoutMs?: number;
}

/** The Redis-backed store, with its health visible to the caller. */
export interface RedisPresenceStore extends PresenceStore {
  /** False while Redis is unreachable and answers come from this node's view only. */
  readonly healthy: boolean;
}

/**
 * Presence shared by every node. One socket per device across nodes is guaranteed by the
 * gateway (a second connection replaces the first), so each device has one field, written by
 * the node that holds its socket and refreshed by that node's heartbeat. A crashed node
 * stops refreshing: its devices expire by themselves after HEARTBEATS_TO_LIVE heartbeats.
 *
 * While Redis is unreachable or slow, nothing throws or blocks: answers come from this
 * node's own sockets (a user on another node looks offline), the outage is logged once, and
 * the store reconnects on its own (as server/bus/redis.ts does: a fresh connection per
 * attempt, Bun's autoReconnect gives up for good). Once back, it writes this node's devices
 * again and removes those that disconnected meanwhile.
 */
export function redisPresenceStore(
  url: string,
  options: RedisPresenceOptions = {},
): RedisPresenceStore {
  const heartbeatMs = options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS;
  const ttl = String(heartbeatMs * HEARTBEATS_TO_LIVE);
  const commandTimeoutMs = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  const reconnectIntervalMs = options.reconnectIntervalMs ?? RECONNECT_INTERVAL_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const reasonOf = redisErrorReason(url);
  const node = crypto.randomUUID();
  const local = localPresence();
  /** Devices whose removal did not reach Redis: removed once it is back. */
  const unsent = new Map<UserId, Set<DeviceId>>();
  let client: RedisClient | undefined;
  let healthy = true;
  let closed = false;
  let refreshing: Promise<void> | undefined;
  let again = false;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const key = (userId: UserId) => KEY_PREFIX + userId;

  const setHealthy = (value: boolean, error?: unknown) => {
    if (value === healthy || closed) return;
    healthy = value;
    if (value) options.log?.info("presence shared through redis again");
    else {
      options.log?.warn(
        "redis unreachable: presence covers this node's devices only until it is back",
        {
          reason: reasonOf(error),
        },
      );
    }
  };

  const drop = (dead: RedisClient) => {
    dead.onclose = null;
    dead.close();
  };

  const lost = (dead: RedisClient, error: unknown) => {
    if (client !== dead) return;
    client = undefined;
    drop(dead);
    setHealthy(false, error);
    scheduleReconnect();
  };

  /** Runs a command; undefined (and the link counted as lost) on error or timeout. */
  const attempt = async <T>(command: (c: RedisClient) => Promise<T>): Promise<T | undefined> => {
    await firstConnect;
    const current = client;
    if (current === undefined || closed) return undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no reply within ${commandTimeoutMs} ms`)),
        commandTimeoutMs,
      );
    });
    try {
      return await Promise.race([command(current), timeout]);
    } catch (error) {
      // A Redis that accepts but does not answer (paused, full buffers): reconnect rather
      // than let replies queue up behind it.
      lost(current, error);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  };

  /** This node's devices, written again (the heartbeat, and after an outage). */
  const refreshOnce = async () => {
    const users = [...local.entries()].map(([userId, devices]) => ({
      userId,
      devices: [...devices.keys()],
    }));
    await Promise.all(
      users.map(({ userId, devices }) =>
        attempt((c) => REFRESH(c, [key(userId)], [node, ttl, ...devices])),
      ),
    );
  };
  /** One refresh at a time; asked again while one runs, it runs once more after it. */
  const refreshAll = (): Promise<void> => {
    if (refreshing) {
      again = true;
      return refreshing;
    }
    refreshing = (async () => {
      do {
        again = false;
        await refreshOnce();
      } while (again && !closed);
    })().finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  };

  /** Removals that failed during an outage, for devices that have not come back here. */
  const sendUnsent = async () => {
    const pending = [...unsent].flatMap(([userId, devices]) =>
      [...devices].map((deviceId) => ({ userId, deviceId })),
    );
    unsent.clear();
    await Promise.all(
      pending.map(({ userId, deviceId }) =>
        attempt((c) => DISCONNECT(c, [key(userId)], [deviceId, node])),
      ),
    );
  };

  const connect = async () => {
    const next = new RedisClient(url, {
      autoReconnect: false,
      // A command while disconnected fails at once instead of waiting in a queue.
      enableOfflineQueue: false,
      connectionTimeout: connectTimeoutMs,
    });
    try {
      await next.connect();
    } catch (error) {
      drop(next);
      throw error;
    }
    if (closed) {
      drop(next);
      return;
    }
    next.onclose = (error: Error) => lost(next, error);
    client = next;
    setHealthy(true);
  };

  const reconnect = () => {
    retry = undefined;
    if (closed) return;
    connect().then(
      async () => {
        await refreshAll();
        await sendUnsent();
      },
      (error: unknown) => {
        setHealthy(false, error);
        scheduleReconnect();
      },
    );
  };

  function scheduleReconnect() {
    if (closed || retry !== undefined) return;
    retry = setTimeout(reconnect, reconnectIntervalMs);
    // Reconnecting must never be what keeps the process alive.
    retry.unref();
  }

  // Commands wait for the first attempt only (bounded by the connect timeout).
  const firstConnect = connect().catch((error: unknown) => {
    setHealthy(false, error);
    scheduleReconnect();
  });
  const heartbeat = setInterval(() => void refreshAll(), heartbeatMs);
  heartbeat.unref();

  return {
    async connected(userId, deviceId) {
      // Counted here at once, before any await (the port's rule for takeovers).
      const { firstOfUser, firstOfDevice } = local.add(userId, deviceId);
      unsent.get(userId)?.delete(deviceId);
      // Even for a second socket of this device here: the field becomes this node's again.
      const reply = await attempt((c) => CONNECT(c, [key(userId)], [deviceId, node, ttl]));
      if (!firstOfDevice) return false;
      return reply === undefined ? firstOfUser : reply === 1;
    },

    async disconnected(userId, deviceId) {
      const { lastOfUser, lastOfDevice, known } = local.remove(userId, deviceId);
      if (!known || !lastOfDevice) return false;
      const reply = await attempt((c) => DISCONNECT(c, [key(userId)], [deviceId, node]));
      if (reply !== undefined) return reply === 1;
      let devices = unsent.get(userId);
      if (!devices) {
        devices = new Set();
        unsent.set(userId, devices);
      }
      devices.add(deviceId);
      return lastOfUser;
    },

    async online(userIds) {
      const ids = [...new Set(userIds)];
      const flags: number[] = [];
      for (let i = 0; i < ids.length; i += ONLINE_BATCH) {
        const batch = ids.slice(i, i + ONLINE_BATCH);
        const reply = await attempt((c) => ONLINE(c, batch.map(key), []));
        if (!Array.isArray(reply)) return new Set(ids.filter((u) => local.has(u)));
        flags.push(...(reply as number[]));
      }
      return new Set(ids.filter((_, i) => flags[i] === 1));
    },

    async close() {
      closed = true;
      clearInterval(heartbeat);
      clearTimeout(retry);
      if (client) drop(client);
      client = undefined;
    },

    get healthy() {
      return healthy;
    },
  };
}

import type { RedisClient } from "bun";

// The Lua scripts of the Redis presence store (redis.ts). Each runs atomically on the Redis
// server and reads the time there.

/**
 * Per user, a hash of deviceId → "aliveUntil:node" (ms, Redis's clock, so the nodes' clocks
 * never matter). A field is live while aliveUntil is ahead of Redis's time; expired fields
 * are dropped by the writing scripts. The key expires with its newest field.
 */
const PRELUDE = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function parse(value)
  local untilMs, node = string.match(value, '^(%d+):(.*)$')
  return tonumber(untilMs) or 0, node
end
local function liveDevices(key)
  local all = redis.call('HGETALL', key)
  local n = 0
  for i = 1, #all, 2 do
    if parse(all[i + 1]) > now then n = n + 1 else redis.call('HDEL', key, all[i]) end
  end
  return n
end
`;

/** KEYS[1] = user; ARGV = device, node, ttlMs. 1 when the user had no live device before. */
export const CONNECT = script(`${PRELUDE}
local before = liveDevices(KEYS[1])
local ttl = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], string.format('%d:%s', now + ttl, ARGV[2]))
redis.call('PEXPIRE', KEYS[1], ttl)
if before == 0 then return 1 end
return 0
`);

/**
 * KEYS[1] = user; ARGV = device, node. Removes the device only if this node holds it (after
 * a takeover, the other node's field stays). 1 when the user has no live device left.
 */
export const DISCONNECT = script(`${PRELUDE}
local value = redis.call('HGET', KEYS[1], ARGV[1])
if value then
  local _, node = parse(value)
  if node == ARGV[2] then redis.call('HDEL', KEYS[1], ARGV[1]) end
end
if liveDevices(KEYS[1]) == 0 then return 1 end
return 0
`);

/**
 * KEYS[1] = user; ARGV = node, ttlMs, device… The heartbeat: extends this node's devices,
 * and writes those missing or expired (Redis restarted or lost them in an outage); a device
 * another node holds now is left to it.
 */
export const REFRESH = script(`${PRELUDE}
local ttl = tonumber(ARGV[2])
local fresh = string.format('%d:%s', now + ttl, ARGV[1])
for i = 3, #ARGV do
  local value = redis.call('HGET', KEYS[1], ARGV[i])
  local untilMs, node = 0, ARGV[1]
  if value then untilMs, node = parse(value) end
  if node == ARGV[1] or untilMs <= now then redis.call('HSET', KEYS[1], ARGV[i], fresh) end
end
redis.call('PEXPIRE', KEYS[1], ttl)
return 0
`);

/** KEYS = users. Per user, 1 when one of their devices is live. Writes nothing. */
export const ONLINE = script(`${PRELUDE}
local out = {}
for k = 1, #KEYS do
  out[k] = 0
  for _, value in ipairs(redis.call('HVALS', KEYS[k])) do
    if parse(value) > now then out[k] = 1; break end
  end
end
return out
`);

type Script = (client: RedisClient, keys: string[], args: string[]) => Promise<unknown>;

/** A Lua script run by its SHA, loaded on first use (or after SCRIPT FLUSH, a restart). */
function script(source: string): Script {
  const sha = new Bun.CryptoHasher("sha1").update(source).digest("hex");
  return async (client, keys, args) => {
    const argv = [String(keys.length), ...keys, ...args];
    try {
      return await client.send("EVALSHA", [sha, ...argv]);
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith("NOSCRIPT"))) throw error;
      return await client.send("EVAL", [source, ...argv]);
    }
  };
}

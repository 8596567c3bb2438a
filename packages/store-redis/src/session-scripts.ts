import { RedisScript } from "./redis-script.js";

/**
 * The session store's scripts. KEYS: [session hash, history list, index]
 * unless said otherwise. Times come from Redis's own clock (TIME), so every
 * replica agrees on when a record expires whatever its own clock says.
 * Each script checks everything before its first write.
 */

/** Redis's clock in ms, and a TTL applied to a session's two keys and its index entry. */
const EXPIRE = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function expire(ttl, id)
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[1], ttl)
    redis.call('PEXPIRE', KEYS[2], ttl)
    redis.call('ZADD', KEYS[3], string.format('%.0f', now_ms() + ttl), id)
  else
    redis.call('ZADD', KEYS[3], '+inf', id)
  end
end
-- RPUSH in chunks: unpack() of thousands of values would overflow Lua's stack.
local function push(from)
  local i = from
  while i <= #ARGV do
    local last = math.min(i + 499, #ARGV)
    redis.call('RPUSH', KEYS[2], unpack(ARGV, i, last))
    i = last + 1
  end
end
`;

/** ARGV: ttl, id, n, then n field/value pairs, then the history entries. → 1 created, 0 exists. */
export const CREATE_SESSION = new RedisScript({
  keys: 3,
  lua: `${EXPIRE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local n = tonumber(ARGV[3])
redis.call('HSET', KEYS[1], unpack(ARGV, 4, 3 + 2 * n))
redis.call('DEL', KEYS[2])
push(4 + 2 * n)
expire(tonumber(ARGV[1]), ARGV[2])
return 1`,
});

/** ARGV: fence, ttl, id, drop, conversation, lastActiveAt, then the entries to append. */
export const APPEND_TURN = new RedisScript({
  keys: 3,
  lua: `${EXPIRE}
local current = redis.call('HGET', KEYS[1], 'fence')
if not current then return 'not-found' end
if tonumber(ARGV[1]) < tonumber(current) then return 'stale' end
local drop = tonumber(ARGV[4])
if drop > 0 then redis.call('LTRIM', KEYS[2], drop, -1) end
push(7)
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'conversation', ARGV[5], 'lastActiveAt', ARGV[6])
expire(tonumber(ARGV[2]), ARGV[3])
return 'written'`,
});

/** KEYS: [session hash, history list]. ARGV: fence, initialResponse, conversation, conversationStartedAt. */
export const RENEW_SESSION = new RedisScript({
  keys: 2,
  lua: `
local current = redis.call('HGET', KEYS[1], 'fence')
if not current then return 'not-found' end
if tonumber(ARGV[1]) < tonumber(current) then return 'stale' end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'fence', ARGV[1], 'initialResponse', ARGV[2], 'conversation', ARGV[3], 'conversationStartedAt', ARGV[4])
return 'written'`,
});

/** ARGV: id. → 1 deleted, 0 there was none. */
export const DELETE_SESSION = new RedisScript({
  keys: 3,
  lua: `
local existed = redis.call('DEL', KEYS[1])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return existed`,
});

/** KEYS: [session hash, history list]. → { hash as a flat field/value list, history }: one consistent snapshot. */
export const READ_SESSION = new RedisScript({
  keys: 2,
  lua: `
local fields = redis.call('HGETALL', KEYS[1])
if #fields == 0 then return false end
return { fields, redis.call('LRANGE', KEYS[2], 0, -1) }`,
});

/** KEYS: [index]. Forgets expired entries, then counts. */
export const COUNT_SESSIONS = new RedisScript({
  keys: 1,
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
return redis.call('ZCARD', KEYS[1])`,
});

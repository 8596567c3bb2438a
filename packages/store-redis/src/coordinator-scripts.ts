import { RedisScript } from "./redis-script.js";

/**
 * The coordinator's scripts. Times come from Redis's clock (TIME, PX), so
 * replicas whose clocks disagree still agree on cooldowns and leases.
 */

/**
 * How long a session's line keys (tickets, queue, last fence) outlive their
 * last use; every ticket and every waiter's poll refreshes them. Short, so a
 * chat to a session that does not exist (which takes the turn before the
 * pool finds the record missing) leaves nothing behind for long. The fence
 * stays monotonic without its key: tokens are Redis's clock in microseconds.
 */
const COUNTER_TTL_MS = 60_000;

/**
 * KEYS: one cooldown key per credential, in order of preference. ARGV: interval.
 * → the 1-based index of the credential taken, or minus the ms until the soonest is free.
 */
export const ACQUIRE_CREDENTIAL = new RedisScript({
  lua: `
local soonest = nil
for i, key in ipairs(KEYS) do
  if redis.call('SET', key, '1', 'NX', 'PX', ARGV[1]) then return i end
  local left = redis.call('PTTL', key)
  if left < 0 then
    -- a key without a TTL (written by hand): give it the interval rather than block forever
    redis.call('PEXPIRE', key, ARGV[1])
    left = tonumber(ARGV[1])
  end
  if soonest == nil or left < soonest then soonest = left end
end
return -math.max(soonest, 1)`,
});

/**
 * A fencing token: Redis's clock in microseconds, but never at or below the
 * last one given for the session (a clock set back, or two grants within a
 * microsecond). Returned as a string: tokens pass 2^31.
 */
const NEXT_FENCE = `
local function next_fence(fence_key)
  local t = redis.call('TIME')
  local token = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local last = tonumber(redis.call('GET', fence_key) or '0')
  if token <= last then token = last + 1 end
  local text = string.format('%.0f', token)
  redis.call('SET', fence_key, text, 'PX', ${COUNTER_TTL_MS})
  return text
end
`;

/**
 * The turn goes to `ticket` when nobody holds it and `ticket` is the first
 * live one in line (tickets whose heartbeat expired are dropped: their
 * replica is gone). KEYS: [lease, queue, fence, ...].
 * → the fencing token, or nil ("wait").
 */
const TAKE = `${NEXT_FENCE}
local function take(ticket, lease_ms, waiter_prefix)
  if redis.call('EXISTS', KEYS[1]) == 1 then return nil end
  while true do
    local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
    if head == ticket then break end
    if redis.call('EXISTS', waiter_prefix .. head) == 1 then return nil end
    redis.call('ZREM', KEYS[2], head)
  end
  redis.call('ZREM', KEYS[2], ticket)
  redis.call('DEL', waiter_prefix .. ticket)
  redis.call('SET', KEYS[1], ticket, 'PX', lease_ms)
  return next_fence(KEYS[3])
end
`;

/**
 * Takes a ticket in the session's line, and the turn at once when it is
 * free (one round trip for a chat nobody waits ahead of).
 * KEYS: [lease, queue, fence, tickets]. ARGV: waiter key prefix, heartbeat TTL, lease TTL.
 * → { ticket, token } or { ticket } to wait.
 */
export const ENQUEUE = new RedisScript({
  keys: 4,
  lua: `${TAKE}
local ticket = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ${COUNTER_TTL_MS})
redis.call('ZADD', KEYS[2], ticket, ticket)
redis.call('PEXPIRE', KEYS[2], ${COUNTER_TTL_MS})
redis.call('SET', ARGV[1] .. ticket, '1', 'PX', ARGV[2])
local token = take(tostring(ticket), ARGV[3], ARGV[1])
if token then return { tostring(ticket), token } end
return { tostring(ticket) }`,
});

/**
 * A waiter's try: takes the turn (see TAKE), else refreshes its heartbeat
 * and the line's keys. KEYS: [lease, queue, fence, tickets]. ARGV: ticket, lease TTL, waiter key prefix, heartbeat TTL.
 * → the fencing token; "wait"; or "lost" when the ticket is no longer in line.
 */
export const TAKE_TURN = new RedisScript({
  keys: 4,
  lua: `${TAKE}
if redis.call('PEXPIRE', ARGV[3] .. ARGV[1], ARGV[4]) == 0 or not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  redis.call('ZREM', KEYS[2], ARGV[1])
  return 'lost'
end
redis.call('PEXPIRE', KEYS[2], ${COUNTER_TTL_MS})
redis.call('PEXPIRE', KEYS[4], ${COUNTER_TTL_MS})
return take(ARGV[1], ARGV[2], ARGV[3]) or 'wait'`,
});

/**
 * Takes the turn only if nobody holds it or waits (live) for it.
 * KEYS: [lease, queue, fence, tickets]. ARGV: lease TTL, waiter key prefix.
 * → { ticket, token } or false.
 */
export const TRY_TAKE_TURN = new RedisScript({
  keys: 4,
  lua: `${NEXT_FENCE}
if redis.call('EXISTS', KEYS[1]) == 1 then return false end
while true do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head then break end
  if redis.call('EXISTS', ARGV[2] .. head) == 1 then return false end
  redis.call('ZREM', KEYS[2], head)
end
local ticket = redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ${COUNTER_TTL_MS})
redis.call('SET', KEYS[1], ticket, 'PX', ARGV[1])
return { tostring(ticket), next_fence(KEYS[3]) }`,
});

/** Extends a lease still held by this ticket. KEYS: [lease]. ARGV: ticket, lease TTL. → 1, or 0 when lost. */
export const EXTEND_TURN = new RedisScript({
  keys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`,
});

/**
 * Ends a lease if this ticket still holds it, and tells every replica.
 * KEYS: [lease]. ARGV: ticket, channel, session id. → 1 released, 0 not held.
 */
export const RELEASE_TURN = new RedisScript({
  keys: 1,
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`,
});

/** A waiter leaves the line. KEYS: [queue]. ARGV: ticket, waiter key, channel, session id. */
export const LEAVE_LINE = new RedisScript({
  keys: 1,
  lua: `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`,
});

/**
 * Reserves a slot: forgets expired reservations, adds this one, counts.
 * KEYS: [slots]. ARGV: reservation id, TTL. → reservations now held, this one included.
 */
export const RESERVE_SLOT = new RedisScript({
  keys: 1,
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. string.format('%.0f', now))
redis.call('ZADD', KEYS[1], string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])
return redis.call('ZCARD', KEYS[1])`,
});

/** Keeps a held reservation alive. KEYS: [slots]. ARGV: reservation id, TTL. */
export const EXTEND_SLOT = new RedisScript({
  keys: 1,
  lua: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + tonumber(ARGV[2])), ARGV[1])`,
});

-- Decide one provider request of an account: grant it (take its tokens and, when concurrency is
-- limited, a lease) or say how long until it could be granted. Nothing changes on a refusal.
-- GCRA: a bucket is one "theoretical arrival time" (TAT); it is full when TAT <= now. A request of
-- cost c fits when  max(TAT, now) + c * interval <= now + tolerance - reserve,  i.e. when it leaves
-- at least `reserve` worth of tokens (bulk leaves the transactional reserve; transactional, none).
-- KEYS[1] {P}:rl:<account>:msgs    string: TAT of the messages bucket (epoch s)
-- KEYS[2] {P}:rl:<account>:reqs    string: TAT of the requests bucket (epoch s)
-- KEYS[3] {P}:rl:<account>:leases  zset: lease token -> expiry (requests in flight)
-- KEYS[4] {P}:rl:<account>:pause   string: why the account is paused (PX: a 429's Retry-After)
-- KEYS[5] {P}:rl:<account>:stats   hash: counters shown by `dispatcher lanes`
-- ARGV[1] now, epoch s; "" = the Redis server's clock (one clock for every machine)
-- ARGV[2] cost: messages in the request
-- ARGV[3] ARGV[4] ARGV[5]   messages bucket: interval, tolerance, reserve (s)
-- ARGV[6] ARGV[7] ARGV[8]   requests bucket: interval, tolerance, reserve (s)
-- ARGV[9] max leases (0: concurrency not limited); ARGV[10] leases to leave free
-- ARGV[11] lease duration (s); ARGV[12] lease token
-- Returns {granted 0|1, wait in microseconds, reason: "" | "paused" | "rate" | "concurrency",
--          messages bucket in use after the decision, in millionths}
local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) + tonumber(time[2]) / 1e6
end
local cost = tonumber(ARGV[2])
-- A request usually ends long before its lease expires: when all are taken, look again this soon.
local LEASE_POLL_S = 0.05

local function used_ppm(tat, tolerance)
  return math.floor(math.max(0, tat - now) / tolerance * 1e6)
end

local function deny(wait_s, reason, ppm)
  redis.call('HINCRBY', KEYS[5], 'dn', 1)
  return {0, math.ceil(wait_s * 1e6), reason, ppm}
end

local pause_ms = redis.call('PTTL', KEYS[4])
local msg_tat = math.max(tonumber(redis.call('GET', KEYS[1])) or now, now)
local msg_tolerance = tonumber(ARGV[4])
if pause_ms > 0 then
  return deny(pause_ms / 1000, 'paused', used_ppm(msg_tat, msg_tolerance))
end

-- Seconds until `cost` more fits the bucket (<= 0: it fits now), and the TAT after taking it.
local function fit(tat, cost_units, interval, tolerance, reserve)
  local new_tat = tat + cost_units * interval
  return new_tat - (now + tolerance - reserve), new_tat
end

local msg_wait, msg_new = fit(msg_tat, cost, tonumber(ARGV[3]), msg_tolerance, tonumber(ARGV[5]))
local req_tat = math.max(tonumber(redis.call('GET', KEYS[2])) or now, now)
local req_tolerance = tonumber(ARGV[7])
local req_wait, req_new = fit(req_tat, 1, tonumber(ARGV[6]), req_tolerance, tonumber(ARGV[8]))
local wait = math.max(msg_wait, req_wait)
if wait > 1e-6 then
  return deny(wait, 'rate', used_ppm(msg_tat, msg_tolerance))
end

local max_leases = tonumber(ARGV[9])
if max_leases > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  if redis.call('ZCARD', KEYS[3]) >= max_leases - tonumber(ARGV[10]) then
    local first = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    local until_free = first[2] and tonumber(first[2]) - now or LEASE_POLL_S
    return deny(math.min(until_free, LEASE_POLL_S), 'concurrency', used_ppm(msg_tat, msg_tolerance))
  end
  redis.call('ZADD', KEYS[3], now + tonumber(ARGV[11]), ARGV[12])
end

-- A bucket's key lives only while the bucket is not full: idle accounts leave nothing behind.
redis.call('SET', KEYS[1], string.format('%.6f', msg_new), 'PX', math.ceil((msg_new - now) * 1000) + 1)
redis.call('SET', KEYS[2], string.format('%.6f', req_new), 'PX', math.ceil((req_new - now) * 1000) + 1)

local second = math.floor(now)
local stats = redis.call('HMGET', KEYS[5], 'sec', 'sm')
local counted = tonumber(stats[1])
if counted ~= second then
  -- A new second: the one before becomes the last whole second (or nothing, after a quiet one).
  local previous = (counted == second - 1) and (tonumber(stats[2]) or 0) or 0
  redis.call('HSET', KEYS[5], 'sec', second, 'sm', 0, 'pm', previous)
end
redis.call('HINCRBY', KEYS[5], 'sm', cost)
redis.call('HINCRBY', KEYS[5], 'gm', cost)
redis.call('HINCRBY', KEYS[5], 'gr', 1)
return {1, 0, '', used_ppm(msg_new, msg_tolerance)}

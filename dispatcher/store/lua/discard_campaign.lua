-- Delete up to `count` messages of a held campaign that was never committed (a recipient was
-- invalid, or its producer died while checking): none of its messages ever left its held state,
-- so nothing of it was accepted or sent. The first call moves the campaign to phase 'discarding',
-- so a producer that wakes up late can no longer commit what is half deleted. A committed campaign
-- ('releasing', or released) is refused: its messages are accepted ones and must reach a final state.
-- The deleted messages leave the store's current counts ({P}:stats 'n|...', see prelude.lua) and
-- are counted as entering 'discarded' (the 'e|' totals feed Prometheus counters, which must never
-- go down).
-- KEYS[1] {P}:c:<campaign>:ids   KEYS[2] {P}:c:<campaign>   KEYS[3] {P}:held
-- ARGV[1] key root "{P}:"   ARGV[2] count   ARGV[3] campaign id
-- ARGV[4] owner token the caller saw, or '' for any: a campaign claimed since by another producer
--         (a replay that took over a dead one's intake) is not touched
-- Returns how many messages were deleted; 0 once the campaign is gone (or was committed, or is
-- owned by another producer now).
local f = redis.call('HMGET', KEYS[2], 'ph', 'ow')
local phase = f[1]
if phase ~= 'checking' and phase ~= 'discarding' then
  return 0
end
if ARGV[4] ~= '' and f[2] ~= ARGV[4] then
  return 0
end
if phase == 'checking' then
  redis.call('HSET', KEYS[2], 'ph', 'discarding')
end
local count = tonumber(ARGV[2])
local ids = redis.call('LRANGE', KEYS[1], 0, count - 1)
local changes = {}  -- stats field -> its change
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'pv', 'ch')
  if f[1] then
    local group = (f[2] or '?') .. '|' .. (f[3] or '?') .. '|'
    changes['n|' .. group .. f[1]] = (changes['n|' .. group .. f[1]] or 0) - 1
    changes['e|' .. group .. 'discarded'] = (changes['e|' .. group .. 'discarded'] or 0) + 1
  end
  redis.call('DEL', key)
end
for field, change in pairs(changes) do
  redis.call('HINCRBY', ARGV[1] .. 'stats', field, change)
end
redis.call('LTRIM', KEYS[1], #ids, -1)
if #ids < count then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[3])
end
return #ids

-- Mark a batch 'posting' just before its HTTP request: from here on a resend could duplicate, so a
-- batch found past its inflight deadline is reconciled, never resent blindly. The deadline is
-- NOW + reclaim_after_s by Redis' clock: a worker whose own clock is behind cannot make it fall
-- due while its request is still in flight.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight
-- ARGV[1..2] prelude; ARGV[3] batch id; ARGV[4] request tag; ARGV[5] reclaim after, s;
-- ARGV[6..] the ids the request carries (none: the whole batch; ids not in the batch are not counted)
-- Returns 1, or 0 when the batch no longer exists. Marking again under the same tag (a retry after
-- a lost reply) changes nothing, so an attempt is counted once per request.
local state = redis.call('HMGET', KEYS[1], 'ids', 'tag')
local joined = state[1]
if not joined then
  return 0
end
if state[2] == ARGV[4] then
  return 1
end
redis.call('HSET', KEYS[1], 'st', 'posting', 'tag', ARGV[4], 'ps', string.format('%.3f', NOW))
redis.call('ZADD', KEYS[2], NOW + tonumber(ARGV[5]), ARGV[3])
local members = {}
for id in string.gmatch(joined, '%S+') do
  members[#members + 1] = id
end
local carried = members
if #ARGV >= 6 then
  local in_batch = {}
  for _, id in ipairs(members) do
    in_batch[id] = true
  end
  carried = {}
  for i = 6, #ARGV do
    if in_batch[ARGV[i]] then
      carried[#carried + 1] = ARGV[i]
    end
  end
end
for _, id in ipairs(carried) do
  redis.call('HINCRBY', ROOT .. 'm:' .. id, 'at', 1)
end
return 1

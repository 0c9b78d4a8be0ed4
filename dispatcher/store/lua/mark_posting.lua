-- Mark a batch 'posting' just before its HTTP request: from here on a resend could duplicate, so a
-- batch found past its inflight deadline is reconciled, never resent blindly.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight
-- ARGV[1..3] prelude; ARGV[4] batch id; ARGV[5] request tag; ARGV[6] now, epoch s;
-- ARGV[7] reclaim at, epoch s; ARGV[8..] the ids the request carries (none: the whole batch;
-- ids not in the batch are not counted)
-- Returns 1, or 0 when the batch no longer exists.
local joined = redis.call('HGET', KEYS[1], 'ids')
if not joined then
  return 0
end
redis.call('HSET', KEYS[1], 'st', 'posting', 'tag', ARGV[5], 'ps', ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[7], ARGV[4])
local members = {}
for id in string.gmatch(joined, '%S+') do
  members[#members + 1] = id
end
local carried = members
if #ARGV >= 8 then
  local in_batch = {}
  for _, id in ipairs(members) do
    in_batch[id] = true
  end
  carried = {}
  for i = 8, #ARGV do
    if in_batch[ARGV[i]] then
      carried[#carried + 1] = ARGV[i]
    end
  end
end
for _, id in ipairs(carried) do
  redis.call('HINCRBY', ROOT .. 'm:' .. id, 'at', 1)
end
return 1

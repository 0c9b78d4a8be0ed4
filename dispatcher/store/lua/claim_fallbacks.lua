-- Claim the SMS fallback of RCS messages: each RCS message's SMS is claimed at most once (the
-- 'fbx' mark); creating it is idempotent too (its id, 'fbi', was fixed at intake), so a claim
-- stays in {P}:fbdue a little longer (an outbox) until the SMS exists and the caller removes it.
-- A message delivered, read or cancelled first has its fallback dropped, never claimed.
-- KEYS[1] {P}:fbdue
-- ARGV[1..2] prelude; ARGV[3] outbox retry after, s; ARGV[4] at most this many due ids;
-- ARGV[5..] RCS ids to claim now (a failure report); none: the ids due in {P}:fbdue by Redis' clock
-- Returns the RCS ids whose SMS the caller must create (see Store.create_fallbacks).
local NO_FALLBACK = {delivered = true, read = true, cancelled = true}
local ids = {}
if #ARGV >= 5 then
  for i = 5, #ARGV do
    ids[#ids + 1] = ARGV[i]
  end
else
  ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[4]))
end
local retry_at = NOW + tonumber(ARGV[3])
local claimed = {}
for _, id in ipairs(ids) do
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'fbi', 'fbx', 'h')
  if not (f[1] and f[2]) then
    redis.call('ZREM', KEYS[1], id)
  elseif f[3] then
    -- Claimed before: still to create only while it is in the outbox.
    if redis.call('ZSCORE', KEYS[1], id) then
      claimed[#claimed + 1] = id
    end
  elseif NO_FALLBACK[f[1]] then
    redis.call('ZREM', KEYS[1], id)
  else
    redis.call('HSET', key, 'fbx', '1',
      'h', (f[4] or '') .. NOW_MS .. ' ' .. f[1] .. ' ' .. f[1] .. ' fallback sms ' .. f[2] .. '\n')
    redis.call('ZADD', KEYS[1], retry_at, id)
    claimed[#claimed + 1] = id
  end
end
return claimed

-- Move retry-due ids to the tails of their lanes; ids no longer 'queued' (cancelled) are dropped.
-- KEYS[1] {P}:retry
-- ARGV[1..2] prelude; ARGV[3] at most this many ids (due by Redis' clock)
-- Returns how many ids went back to a lane.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
if #due == 0 then
  return 0
end
redis.call('ZREM', KEYS[1], unpack(due))
local released = 0
for _, id in ipairs(due) do
  local f = redis.call('HMGET', ROOT .. 'm:' .. id, 'st', 'ln')
  if f[1] == 'queued' then
    redis.call('RPUSH', ROOT .. 'lane:' .. f[2], id)
    released = released + 1
  end
end
return released

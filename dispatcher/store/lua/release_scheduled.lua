-- Move scheduled messages whose time came to the tails of their lanes, in send-time order.
-- A message past its deadline becomes 'expired' instead; one of a campaign not yet committed (its
-- producer is checking the rest) waits another second; ids no longer 'scheduled' (cancelled) are dropped.
-- KEYS[1] {P}:sched   KEYS[2] {P}:lanes
-- ARGV[1..2] prelude; ARGV[3] at most this many ids (due by Redis' clock)
-- Returns {released, expired, lane, lane, ...}: the lanes that got ids (to kick).
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
if #due == 0 then
  return {0, 0}
end
local released, expired = 0, 0
local lane_ids, lane_order, later = {}, {}, {}
for _, id in ipairs(due) do
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch', 'ln', 'dl')
  if f[1] == 'scheduled' then
    local phase = f[2] and redis.call('HGET', ROOT .. 'c:' .. f[2], 'ph')
    if phase == 'checking' or phase == 'discarding' then
      later[#later + 1] = id
    elseif tonumber(f[8]) <= NOW then
      local reason = 'deadline passed before its send time'
      if move(key, f, 'expired', reason, {'rs', reason}) then
        expired = expired + 1
      end
    elseif move(key, f, 'queued', 'send time') then
      local ids = lane_ids[f[7]]
      if not ids then
        ids = {}
        lane_ids[f[7]] = ids
        lane_order[#lane_order + 1] = f[7]
      end
      ids[#ids + 1] = id
      released = released + 1
    end
  end
end
redis.call('ZREM', KEYS[1], unpack(due))
for _, id in ipairs(later) do
  redis.call('ZADD', KEYS[1], NOW + 1, id)
end
local reply = {released, expired}
for _, lane in ipairs(lane_order) do
  redis.call('RPUSH', ROOT .. 'lane:' .. lane, unpack(lane_ids[lane]))
  redis.call('SADD', KEYS[2], lane)
  reply[#reply + 1] = lane
end
flush_counts()
return reply

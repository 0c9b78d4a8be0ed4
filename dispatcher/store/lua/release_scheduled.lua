-- Move scheduled messages whose time came to the tails of their lanes, in send-time order.
-- A message past its deadline becomes 'expired' instead; one of a campaign still held (its producer
-- is checking the rest) waits another second; ids no longer 'scheduled' (cancelled) are dropped.
-- KEYS[1] {P}:sched   KEYS[2] {P}:lanes
-- ARGV[1..3] prelude; ARGV[4] now, epoch s; ARGV[5] at most this many ids
-- Returns {released, expired, lane, lane, ...}: the lanes that got ids (to kick).
local now = tonumber(ARGV[4])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[4], 'LIMIT', 0, tonumber(ARGV[5]))
if #due == 0 then
  return {0, 0}
end
local released, expired = 0, 0
local lane_ids, lane_order, later = {}, {}, {}
for _, id in ipairs(due) do
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch', 'ln', 'dl')
  if f[1] == 'scheduled' then
    if f[2] and redis.call('HGET', ROOT .. 'c:' .. f[2], 'held') == '1' then
      later[#later + 1] = id
    elseif tonumber(f[8]) <= now then
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
  redis.call('ZADD', KEYS[1], now + 1, id)
end
local reply = {released, expired}
for _, lane in ipairs(lane_order) do
  redis.call('RPUSH', ROOT .. 'lane:' .. lane, unpack(lane_ids[lane]))
  redis.call('SADD', KEYS[2], lane)
  reply[#reply + 1] = lane
end
flush_counts()
return reply

-- Take due webhook events for one sender: each is leased (its due time pushed past the POST's
-- timeout) so no other sender posts it meanwhile; events whose hash expired are dropped (and the
-- next event of their message becomes due).
-- KEYS[1] {P}:wh:due
-- ARGV[1] key root; ARGV[2] at most this many (due by Redis' clock); ARGV[3] lease, s
-- Returns 4 values per event: event id, URL, body, attempts made so far.
--@include clock
--@include webhook_queue
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[2]))
local reply = {}
local lease_until = NOW + tonumber(ARGV[3])
for _, event_id in ipairs(due) do
  local e = redis.call('HMGET', ARGV[1] .. 'wh:e:' .. event_id, 'u', 'b', 'n')
  if e[1] then
    redis.call('ZADD', KEYS[1], lease_until, event_id)
    reply[#reply + 1] = event_id
    reply[#reply + 1] = e[1]
    reply[#reply + 1] = e[2]
    reply[#reply + 1] = e[3]
  else
    webhook_finish(ARGV[1], event_id, KEYS[1])
  end
end
return reply

-- Give messages just stored by add_messages (in the same MULTI) what that script does not know:
-- a send time (the message moves 'queued' -> 'scheduled' and waits in {P}:sched, out of every lane;
-- it was stored held, so it is in no lane), extra fields (fallback, webhook), a fallback deadline
-- and a webhook watch.
-- KEYS[1] {P}:sched   KEYS[2] {P}:fbdue   KEYS[3] {P}:wh:watch
-- ARGV[1..3] prelude; ARGV[4] now, epoch s; ARGV[5] JSON array of objects:
--   {"id": id, "at": release epoch s (optional), "f": [field, value, ...] (optional),
--    "fd": fallback deadline epoch s (optional), "watch": true (optional)}
-- An id that does not exist is skipped: its idempotency key named an earlier message instead.
-- Returns how many messages were scheduled.
local scheduled = 0
for _, entry in ipairs(cjson.decode(ARGV[5])) do
  local key = ROOT .. 'm:' .. entry.id
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
  if f[1] then
    if entry.f then
      redis.call('HSET', key, unpack(entry.f))
    end
    if entry.fd then
      redis.call('ZADD', KEYS[2], entry.fd, entry.id)
    end
    if entry.watch then
      redis.call('ZADD', KEYS[3], ARGV[4], entry.id)
    end
    if entry.at and f[1] == 'queued' then
      move(key, f, 'scheduled', string.format('send at %.3f', entry.at))
      redis.call('ZADD', KEYS[1], entry.at, entry.id)
      scheduled = scheduled + 1
    end
  end
end
flush_counts()
return scheduled

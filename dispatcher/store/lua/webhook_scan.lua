-- Turn new status changes of watched messages into webhook events: the history lines after the
-- message's cursor ('whc', bytes of 'h' already seen), refused moves ('ignored:') left out.
-- The webhook URL: the message's 'wh', else its campaign's 'wh', else the default (ARGV[3]).
-- A message leaves the watch once final (except 'delivered', which may still become 'read').
-- KEYS[1] {P}:wh:watch   KEYS[2] {P}:wh:due
-- ARGV[1] key root; ARGV[2] at most this many messages (due by Redis' clock);
-- ARGV[3] default URL or ''; ARGV[4] event TTL, s; ARGV[5] look again after, s
-- Each event is queued behind the message's earlier ones (webhook_queue): only the oldest is due.
-- Returns how many events were created.
--@include clock
--@include webhook_queue
local ROOT = ARGV[1]
local FINAL_QUIET = {read = true, undelivered = true, expired = true, rejected = true, failed = true,
  cancelled = true}
local created = 0
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'h', 'whc', 'wh', 'cp')
  local url = f[4] or (f[5] and redis.call('HGET', ROOT .. 'c:' .. f[5], 'wh')) or ARGV[3]
  if not f[1] or url == '' then
    redis.call('ZREM', KEYS[1], id)
  else
    local history = f[2] or ''
    local seen = tonumber(f[3] or '0')
    if #history > seen then
      local offset = seen
      for line in string.gmatch(string.sub(history, seen + 1), '([^\n]*)\n') do
        local at_ms, source, target, reason = string.match(line, '^(%d+) (%S+) (%S+) ?(.*)$')
        if at_ms and string.sub(reason, 1, 8) ~= 'ignored:' then
          local event_id = id .. '.' .. offset
          local sequence = redis.call('HINCRBY', key, 'whn', 1)
          local body = cjson.encode({event_id = event_id, message_id = id, sequence = sequence,
            campaign = f[5] or cjson.null, previous_state = source, state = target, reason = reason,
            at = tonumber(at_ms) / 1000})
          local event_key = ROOT .. 'wh:e:' .. event_id
          local queue_key = ROOT .. 'wh:q:' .. id
          local ttl = math.ceil(tonumber(ARGV[4]))
          redis.call('HSET', event_key, 'u', url, 'b', body, 'n', 0)
          redis.call('EXPIRE', event_key, ttl)
          if redis.call('RPUSH', queue_key, event_id) == 1 then
            redis.call('ZADD', KEYS[2], NOW, event_id)
          end
          redis.call('EXPIRE', queue_key, ttl)
          created = created + 1
        end
        offset = offset + #line + 1
      end
      redis.call('HSET', key, 'whc', #history)
    end
    if FINAL_QUIET[f[1]] then
      redis.call('ZREM', KEYS[1], id)
    else
      redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[5]), id)
    end
  end
end
return created

-- Apply provider reports (delivery callbacks) to our messages, found through the provider-id index.
-- A report whose provider id is not indexed yet (the callback outran the recording of the send's
-- result) is parked, in arrival order, in {P}:early:<provider>:<provider id> (hash: 'ac' accounts,
-- 'ev' lines '<ms> <target> <reason>'; expires after the TTL), and {P}:early gets the member
-- '<provider> <provider id>' so beat applies it once the id is indexed (apply_early.lua).
-- KEYS[1] {P}:early
-- ARGV[1..2] prelude; ARGV[3] provider; ARGV[4] TTL of parked reports, s
-- ARGV[5] accounts whose indexes are searched, space-separated, in order
-- ARGV[6] JSON array, 3 strings per report: provider id, target state ('' = history only), reason
-- Returns 3 values per report: our id ('' when parked), 1 if the state moved else 0, state after.
--@include report_events
local reply = {}
local flat = cjson.decode(ARGV[6])
for i = 1, #flat, 3 do
  local provider_id, target, reason = flat[i], flat[i + 1], flat[i + 2]
  local id = find_by_provider_id(ARGV[5], provider_id)
  if id then
    local moved, state = apply_event(ROOT .. 'm:' .. id, target, reason)
    reply[#reply + 1] = id
    reply[#reply + 1] = moved and 1 or 0
    reply[#reply + 1] = state
  else
    local parked = ROOT .. 'early:' .. ARGV[3] .. ':' .. provider_id
    local events = redis.call('HGET', parked, 'ev') or ''
    redis.call('HSET', parked, 'ac', ARGV[5], 'ev', events .. NOW_MS .. ' ' .. target .. ' ' .. reason .. '\n')
    redis.call('EXPIRE', parked, math.ceil(tonumber(ARGV[4])))
    redis.call('ZADD', KEYS[1], 'NX', NOW, ARGV[3] .. ' ' .. provider_id)
    reply[#reply + 1] = ''
    reply[#reply + 1] = 0
    reply[#reply + 1] = ''
  end
end
flush_counts()
return reply

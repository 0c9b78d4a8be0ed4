-- Apply parked reports (apply_reports.lua) whose provider id is indexed by now, in arrival order.
-- A parked report still without its record is looked at again a second later, until its hash
-- expires (then it is dropped: no message of ours ever had that provider id).
-- KEYS[1] {P}:early
-- ARGV[1..2] prelude; ARGV[3] at most this many parked provider ids (due by Redis' clock)
-- Returns 2 values per event that moved a message: our id, the state after.
--@include report_events
local members = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', NOW, 'LIMIT', 0, tonumber(ARGV[3]))
local reply = {}
for _, member in ipairs(members) do
  local provider, provider_id = string.match(member, '^(%S+) (.+)$')
  local parked = ROOT .. 'early:' .. provider .. ':' .. provider_id
  local p = redis.call('HMGET', parked, 'ac', 'ev')
  local id = p[2] and find_by_provider_id(p[1], provider_id)
  if not p[2] then
    redis.call('ZREM', KEYS[1], member)
  elseif id then
    local key = ROOT .. 'm:' .. id
    for target, reason in string.gmatch(p[2], '%d+ (%S*) ([^\n]*)\n') do
      local moved, state = apply_event(key, target, 'early ' .. reason)
      if moved then
        reply[#reply + 1] = id
        reply[#reply + 1] = state
      end
    end
    redis.call('DEL', parked)
    redis.call('ZREM', KEYS[1], member)
  else
    redis.call('ZADD', KEYS[1], NOW + 1, member)
  end
end
flush_counts()
return reply

-- Release the next `count` ids of a committed campaign (phase 'releasing') to its lane's tail, in
-- order, from the cursor 'rl' kept in the campaign: whoever calls (its producer, or beat after the
-- producer failed) continues where the last call stopped, and no id is pushed twice. Ids cancelled
-- meanwhile go too: take_batch skips what is not 'queued'. The last call ends the phase and removes
-- the campaign from {P}:held.
-- KEYS[1] {P}:c:<campaign>:ids   KEYS[2] {P}:lane:<lane>   KEYS[3] {P}:lanes
-- KEYS[4] {P}:c:<campaign>       KEYS[5] {P}:held
-- ARGV[1] count   ARGV[2] lane name   ARGV[3] campaign id
-- Returns {ids released by this call, 1 if the campaign is fully released (or was) else 0}.
local state = redis.call('HMGET', KEYS[4], 'ph', 'rl')
if state[1] ~= 'releasing' then
  return {0, state[1] and 0 or 1}
end
local start = tonumber(state[2])
local count = tonumber(ARGV[1])
local ids = redis.call('LRANGE', KEYS[1], start, start + count - 1)
-- RPUSH in slices: unpack() of more than ~8,000 values overflows Lua's stack.
for first = 1, #ids, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ids, first, math.min(first + 999, #ids)))
end
if #ids > 0 then
  redis.call('SADD', KEYS[3], ARGV[2])
end
if #ids < count then
  redis.call('HDEL', KEYS[4], 'ph', 'rl', 'cm')
  redis.call('ZREM', KEYS[5], ARGV[3])
  return {#ids, 1}
end
redis.call('HSET', KEYS[4], 'rl', start + #ids)
return {#ids, 0}

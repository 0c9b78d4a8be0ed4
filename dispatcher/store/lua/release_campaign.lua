-- Release a held campaign into its lane: the next `count` ids of its id list, from `start`, go to
-- the lane's tail in order. Ids cancelled meanwhile go too: take_batch skips what is not 'queued'.
-- KEYS[1] {P}:c:<campaign>:ids   KEYS[2] {P}:lane:<lane>   KEYS[3] {P}:lanes
-- KEYS[4] {P}:c:<campaign>       KEYS[5] {P}:held
-- ARGV[1] start (0-based)   ARGV[2] count   ARGV[3] lane name   ARGV[4] campaign id
-- Returns how many ids were released; fewer than `count` means the campaign is fully released.
local start = tonumber(ARGV[1])
local count = tonumber(ARGV[2])
local ids = redis.call('LRANGE', KEYS[1], start, start + count - 1)
-- RPUSH in slices: unpack() of more than ~8,000 values overflows Lua's stack.
for first = 1, #ids, 1000 do
  redis.call('RPUSH', KEYS[2], unpack(ids, first, math.min(first + 999, #ids)))
end
if #ids > 0 then
  redis.call('SADD', KEYS[3], ARGV[3])
end
if #ids < count then
  redis.call('HDEL', KEYS[4], 'held')
  redis.call('ZREM', KEYS[5], ARGV[4])
end
return #ids

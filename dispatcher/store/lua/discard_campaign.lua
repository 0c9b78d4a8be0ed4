-- Delete up to `count` messages of a held campaign that will never be released (a recipient was
-- invalid, or the producer died while checking). Refuses a campaign that is not held: released
-- messages are accepted ones and must reach a final state.
-- KEYS[1] {P}:c:<campaign>:ids   KEYS[2] {P}:c:<campaign>   KEYS[3] {P}:held
-- ARGV[1] key root "{P}:"   ARGV[2] count   ARGV[3] campaign id
-- Returns how many messages were deleted; 0 once the campaign is gone (or was not held).
if redis.call('HGET', KEYS[2], 'held') ~= '1' then
  return 0
end
local count = tonumber(ARGV[2])
local ids = redis.call('LRANGE', KEYS[1], 0, count - 1)
for _, id in ipairs(ids) do
  redis.call('DEL', ARGV[1] .. 'm:' .. id)
end
redis.call('LTRIM', KEYS[1], #ids, -1)
if #ids < count then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('ZREM', KEYS[3], ARGV[3])
end
return #ids

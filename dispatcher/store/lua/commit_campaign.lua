-- The point of no return of a held campaign: every recipient passed its checks, so it is accepted
-- and will be released ('checking' -> 'releasing', release cursor at 0, committed at 'cm', its
-- content digest at 'dg' for replays to compare). From here on beat finishes the release if its
-- producer cannot, and never discards it.
-- KEYS[1] {P}:c:<campaign>
-- ARGV[1] owner token   ARGV[2] content digest
-- Returns 1 if the campaign is committed by this owner (now or before: calling twice is harmless),
-- 0 if it cannot be: unknown, claimed by another producer (this one's lease ran out) or being
-- discarded (by beat: its producer took longer than the held timeout).
--@include clock
local f = redis.call('HMGET', KEYS[1], 'ph', 'ow')
if f[2] ~= ARGV[1] then
  return 0
end
if f[1] == 'checking' then
  redis.call('HSET', KEYS[1], 'ph', 'releasing', 'rl', 0, 'cm', string.format('%.3f', NOW), 'dg', ARGV[2])
  redis.call('HDEL', KEYS[1], 'lx')
  return 1
end
if f[1] == 'discarding' then
  return 0
end
return 1

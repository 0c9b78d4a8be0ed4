-- The point of no return of a held campaign: every recipient passed its checks, so it is accepted
-- and will be released ('checking' -> 'releasing', release cursor at 0, committed at 'cm'). From
-- here on beat finishes the release if its producer cannot, and never discards it.
-- KEYS[1] {P}:c:<campaign>
-- Returns 1 if the campaign is committed (now or before: calling twice is harmless), 0 if it cannot
-- be (unknown, or beat has begun discarding it: its producer took longer than the held timeout).
--@include clock
local phase = redis.call('HGET', KEYS[1], 'ph')
if phase == 'checking' then
  redis.call('HSET', KEYS[1], 'ph', 'releasing', 'rl', 0, 'cm', string.format('%.3f', NOW))
  return 1
end
if phase == 'discarding' or redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
return 1

-- Count a failed POST of a webhook event and make it due again after `delay_s` (Redis' clock); an
-- event already gone (delivered by another sender, expired) is left gone.
-- KEYS[1] {P}:wh:e:<event>   KEYS[2] {P}:wh:due
-- ARGV[1] event id; ARGV[2] delay, s
--@include clock
if redis.call('EXISTS', KEYS[1]) == 0 then
  return 0
end
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('ZADD', KEYS[2], 'XX', NOW + tonumber(ARGV[2]), ARGV[1])
return 1

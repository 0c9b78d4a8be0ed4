-- Keep a held campaign's intake claimed: its owner is alive and still checking recipients.
-- KEYS[1] {P}:c:<campaign>
-- ARGV[1] owner token   ARGV[2] lease (s)
-- Returns 1 if renewed, 0 if the claim is lost (another producer took the campaign over after the
-- lease ran out, or it is being discarded): its owner must stop storing.
--@include clock
local f = redis.call('HMGET', KEYS[1], 'ph', 'ow')
if f[1] ~= 'checking' or f[2] ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[1], 'lx', string.format('%.3f', NOW + tonumber(ARGV[2])))
return 1

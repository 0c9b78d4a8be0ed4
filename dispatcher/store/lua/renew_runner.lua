-- Extend a live lease to NOW + lease_s. A lease past its expiry is not renewed (and is dropped):
-- its slot may have been given to another task, and the holder must stop working the lane.
-- KEYS[1] {P}:lane:<lane>:runners   ARGV[1] token; ARGV[2] lease, s
-- Returns 1 if renewed, 0 if the lease is gone or expired.
--@include clock
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then
  return 0
end
if tonumber(expiry) <= NOW then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[2]), ARGV[1])
return 1

-- Lease one of a lane's max_runners dispatch slots; expired leases (by Redis' clock) are dropped
-- first, so a lease lost with a dead worker frees its slot by itself.
-- KEYS[1] {P}:lane:<lane>:runners (zset: token -> lease expiry, epoch s)
-- ARGV[1] max runners; ARGV[2] lease, s; ARGV[3] token
-- Returns 1 if leased, 0 if all slots are taken. Claiming again with the same token (a retry after
-- a lost reply) finds its own lease.
--@include clock
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', NOW)
if redis.call('ZSCORE', KEYS[1], ARGV[3]) then
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], NOW + tonumber(ARGV[2]), ARGV[3])
return 1

-- Lease one of a lane's max_runners dispatch slots; expired leases are dropped first, so a lease
-- lost with a dead worker frees its slot by itself.
-- KEYS[1] {P}:lane:<lane>:runners (zset: token -> lease expiry, epoch s)
-- ARGV[1] now, epoch s; ARGV[2] max runners; ARGV[3] new lease expiry; ARGV[4] token
-- Returns 1 if leased, 0 if all slots are taken.
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
return 1

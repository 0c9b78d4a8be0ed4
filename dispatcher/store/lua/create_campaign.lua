-- Record a campaign's account and lane (counters already there are kept). A held campaign starts
-- in phase 'checking': its messages are stored held while the producer checks the rest, and it is
-- listed in {P}:held by when its intake began (Redis' clock), for beat's sweep.
-- KEYS[1] {P}:c:<campaign>   KEYS[2] {P}:held
-- ARGV[1] account; ARGV[2] lane; ARGV[3] '1' held, else '0'; ARGV[4] campaign id
--@include clock
redis.call('HSET', KEYS[1], 'ac', ARGV[1], 'ln', ARGV[2], 'ct', string.format('%.3f', NOW))
redis.call('HSETNX', KEYS[1], 'total', 0)
if ARGV[3] == '1' then
  redis.call('HSET', KEYS[1], 'ph', 'checking')
  redis.call('ZADD', KEYS[2], NOW, ARGV[4])
end
return 1

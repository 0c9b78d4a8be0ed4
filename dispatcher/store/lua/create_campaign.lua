-- Record a campaign whose messages go straight to their lane (no checking phase, no claim): its
-- account and lane; counters already there are kept. Held campaigns begin with claim_campaign.
-- KEYS[1] {P}:c:<campaign>
-- ARGV[1] account; ARGV[2] lane
--@include clock
redis.call('HSET', KEYS[1], 'ac', ARGV[1], 'ln', ARGV[2], 'ct', string.format('%.3f', NOW))
redis.call('HSETNX', KEYS[1], 'total', 0)
return 1

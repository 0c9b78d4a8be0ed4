-- Begin a held campaign under a name nobody holds yet, or say who holds it. A campaign id is an
-- idempotency key: the first producer to claim it owns its intake ('checking', owner token 'ow',
-- lease 'lx' by Redis' clock, kept alive with renew_campaign) and every later call with the same id
-- is told what exists, so it can replay, wait or refuse instead of storing the campaign twice.
-- KEYS[1] {P}:c:<campaign>   KEYS[2] {P}:held
-- ARGV[1] account   ARGV[2] lane   ARGV[3] owner token   ARGV[4] lease (s)   ARGV[5] template digest
-- ARGV[6] campaign id
-- Returns {1} when claimed; else {0, phase ('' once released), owner, lease left (s; '' if none),
-- template digest, content digest} of the campaign that exists ('' for what it does not keep).
--@include clock
if redis.call('EXISTS', KEYS[1]) == 1 then
  local f = redis.call('HMGET', KEYS[1], 'ph', 'ow', 'lx', 'td', 'dg')
  local lease_left = f[3] and string.format('%.3f', tonumber(f[3]) - NOW) or ''
  return {0, f[1] or '', f[2] or '', lease_left, f[4] or '', f[5] or ''}
end
redis.call('HSET', KEYS[1], 'ac', ARGV[1], 'ln', ARGV[2], 'ct', string.format('%.3f', NOW), 'total', 0,
  'ph', 'checking', 'ow', ARGV[3], 'lx', string.format('%.3f', NOW + tonumber(ARGV[4])), 'td', ARGV[5])
redis.call('ZADD', KEYS[2], NOW, ARGV[6])
return {1}

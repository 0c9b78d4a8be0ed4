-- Move one message to a state (provider reports, cancel), if the transition table allows it.
-- KEYS[1] {P}:m:<id>
-- ARGV[1..2] prelude; ARGV[3] target state; ARGV[4] reason;
-- ARGV[5] optional: the only source states (space-separated) this move may start from, narrower
--         than the table (a producer's cancel may not cancel what the provider already holds)
-- Returns {1 if moved else 0, state after}; {0, ''} for an unknown id (nothing is created).
local f = redis.call('HMGET', KEYS[1], 'st', 'cp', 'ik', 'h', 'pv', 'ch')
if not f[1] then
  return {0, ''}
end
if ARGV[5] and not string.find(' ' .. ARGV[5] .. ' ', ' ' .. f[1] .. ' ', 1, true) then
  redis.call('HSET', KEYS[1], 'h', (f[4] or '') .. NOW_MS .. ' ' .. f[1] .. ' ' .. ARGV[3] .. ' ignored:' .. ARGV[4] .. '\n')
  return {0, f[1]}
end
local moved = move(KEYS[1], f, ARGV[3], ARGV[4])
flush_counts()
if moved then
  return {1, ARGV[3]}
end
return {0, f[1]}

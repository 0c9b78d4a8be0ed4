-- Move one message to a state (provider reports, cancel), if the transition table allows it.
-- KEYS[1] {P}:m:<id>
-- ARGV[1..3] prelude; ARGV[4] target state; ARGV[5] reason
-- Returns {1 if moved else 0, state after}; {0, ''} for an unknown id (nothing is created).
local f = redis.call('HMGET', KEYS[1], 'st', 'cp', 'ik', 'h')
if not f[1] then
  return {0, ''}
end
local moved = move(KEYS[1], f, ARGV[4], ARGV[5])
flush_counts()
if moved then
  return {1, ARGV[4]}
end
return {0, f[1]}

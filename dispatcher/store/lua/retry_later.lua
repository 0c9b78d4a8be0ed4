-- Put messages of a batch back to 'queued' via the retry zset; release_due_retries moves them to
-- their lanes once due. Only ids still in the batch are touched; ids whose state refuses the move
-- are not scheduled.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight   KEYS[3] {P}:retry
-- ARGV[1..2] prelude; ARGV[3] batch id; ARGV[4] reason; ARGV[5..] 2 values per id: id, seconds to wait
-- (due at NOW + that, by Redis' clock)
local members = batch_members(KEYS[1])
if not members then
  return 0
end
local gone = {}
for i = 5, #ARGV, 2 do
  local id = ARGV[i]
  if members[id] then
    local key = ROOT .. 'm:' .. id
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
    if move(key, f, 'queued', ARGV[4], {'rs', ARGV[4]}) then
      redis.call('ZADD', KEYS[3], NOW + tonumber(ARGV[i + 1]), id)
    end
    gone[id] = true
  end
end
detach(KEYS[1], KEYS[2], ARGV[3], gone)
flush_counts()
return 1

-- Put messages of a batch back to 'queued' via the retry zset; release_due_retries moves them to
-- their lanes once due. Only ids still in the batch are touched; ids whose state refuses the move
-- are not scheduled.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight   KEYS[3] {P}:retry
-- ARGV[1..3] prelude; ARGV[4] batch id; ARGV[5] reason; ARGV[6..] 2 values per id: id, due (epoch s)
local members = batch_members(KEYS[1])
if not members then
  return 0
end
local gone = {}
for i = 6, #ARGV, 2 do
  local id = ARGV[i]
  if members[id] then
    local key = ROOT .. 'm:' .. id
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
    if move(key, f, 'queued', ARGV[5], {'rs', ARGV[5]}) then
      redis.call('ZADD', KEYS[3], ARGV[i + 1], id)
    end
    gone[id] = true
  end
end
detach(KEYS[1], KEYS[2], ARGV[4], gone)
flush_counts()
return 1

-- Finish messages of a batch in one state of ours (failed, unknown, expired) with a reason.
-- Only ids still in the batch are touched.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight
-- ARGV[1..2] prelude; ARGV[3] batch id; ARGV[4] target state; ARGV[5] reason; ARGV[6..] ids
local members = batch_members(KEYS[1])
if not members then
  return 0
end
local gone = {}
for i = 6, #ARGV do
  local id = ARGV[i]
  if members[id] then
    local key = ROOT .. 'm:' .. id
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
    move(key, f, ARGV[4], ARGV[5], {'rs', ARGV[5]})
    gone[id] = true
  end
end
detach(KEYS[1], KEYS[2], ARGV[3], gone)
flush_counts()
return 1

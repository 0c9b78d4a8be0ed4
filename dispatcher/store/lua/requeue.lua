-- Give messages of a batch back to the HEAD of their lanes, in the given order, as 'queued' (nothing
-- was sent, so no attempt is counted). Ids whose state refuses the move stay where they are.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight
-- ARGV[1..3] prelude; ARGV[4] batch id; ARGV[5] reason; ARGV[6..] ids
local gone = {}
local lane_ids = {}  -- lane -> ids in order
for i = 6, #ARGV do
  local id = ARGV[i]
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'ln')
  if move(key, f, 'queued', ARGV[5]) then
    local ids = lane_ids[f[5]]
    if not ids then
      ids = {}
      lane_ids[f[5]] = ids
    end
    ids[#ids + 1] = id
  end
  gone[id] = true
end
for lane, ids in pairs(lane_ids) do
  -- LPUSH puts its last argument first: push in reverse to keep the given order at the head.
  local reversed = {}
  for i = #ids, 1, -1 do
    reversed[#reversed + 1] = ids[i]
  end
  redis.call('LPUSH', ROOT .. 'lane:' .. lane, unpack(reversed))
end
detach(KEYS[1], KEYS[2], ARGV[4], gone)
flush_counts()
return 1

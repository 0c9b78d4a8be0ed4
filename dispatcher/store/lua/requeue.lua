-- Give messages of a batch back to the HEAD of their lanes, in the given order, as 'queued' (nothing
-- was sent, so no attempt is counted). Only ids still in the batch move; ids whose state refuses
-- the move stay where they are.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight
-- ARGV[1..2] prelude; ARGV[3] batch id; ARGV[4] reason;
-- ARGV[5] the batch state this requires ('' = any): beat reclaims only a batch still 'taken', so a
--         worker that marked it 'posting' meanwhile keeps it;
-- ARGV[6] the request tag this requires ('' = any): a reconciliation acts only on the request it
--         looked up;
-- ARGV[7..] ids
-- Returns how many ids went back.
local members = batch_members(KEYS[1])
if not members then
  return 0
end
local state, tag = unpack(redis.call('HMGET', KEYS[1], 'st', 'tag'))
if (ARGV[5] ~= '' and state ~= ARGV[5]) or (ARGV[6] ~= '' and tag ~= ARGV[6]) then
  return 0
end
local gone = {}
local moved = 0
local lane_ids = {}  -- lane -> ids in order
for i = 7, #ARGV do
  local id = ARGV[i]
  if members[id] then
    local key = ROOT .. 'm:' .. id
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch', 'ln')
    if move(key, f, 'queued', ARGV[4]) then
      local ids = lane_ids[f[7]]
      if not ids then
        ids = {}
        lane_ids[f[7]] = ids
      end
      ids[#ids + 1] = id
      moved = moved + 1
    end
    gone[id] = true
  end
end
for lane, ids in pairs(lane_ids) do
  -- LPUSH puts its last argument first: push in reverse to keep the given order at the head.
  local reversed = {}
  for i = #ids, 1, -1 do
    reversed[#reversed + 1] = ids[i]
  end
  redis.call('LPUSH', ROOT .. 'lane:' .. lane, unpack(reversed))
end
detach(KEYS[1], KEYS[2], ARGV[3], gone)
flush_counts()
return moved

-- Take up to max_size queued messages from the head of a lane as one new batch, in one step.
-- Ids no longer 'queued' (cancelled, or already handled) are dropped from the lane on the way.
-- KEYS[1] {P}:lane:<lane>   KEYS[2] {P}:inflight
-- ARGV[1..3] prelude; ARGV[4] max_size; ARGV[5] batch id; ARGV[6] lane; ARGV[7] worker;
-- ARGV[8] now, epoch s; ARGV[9] reclaim at, epoch s (the batch goes back to its lane after it)
-- Returns {ids, attempts, deadlines, wire lengths} each space-joined, then the wire items
-- concatenated (five strings however large the batch: the client parses them far faster than
-- 4,000 separate replies); an empty list if nothing was queued.
local max_size = tonumber(ARGV[4])
local batch_id = ARGV[5]
local reason = 'batch ' .. batch_id
local taken = {}
local attempts, deadlines, wire_lengths, wires = {}, {}, {}, {}

while #taken < max_size do
  local popped = redis.call('LPOP', KEYS[1], max_size - #taken)
  if not popped then
    break
  end
  for _, id in ipairs(popped) do
    local key = ROOT .. 'm:' .. id
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch', 'w', 'at', 'dl')
    if f[1] == 'queued' and move(key, f, 'sending', reason) then
      local n = #taken + 1
      taken[n] = id
      wires[n] = f[7]
      wire_lengths[n] = #f[7]
      attempts[n] = f[8]
      deadlines[n] = f[9]
    end
  end
end

flush_counts()
if #taken == 0 then
  return {}
end
local joined_ids = table.concat(taken, ' ')
redis.call('HSET', ROOT .. 'b:' .. batch_id, 'ln', ARGV[6], 'ids', joined_ids, 'st', 'taken',
  'tk', ARGV[8], 'wk', ARGV[7])
redis.call('ZADD', KEYS[2], ARGV[9], batch_id)
return {joined_ids, table.concat(attempts, ' '), table.concat(deadlines, ' '),
  table.concat(wire_lengths, ' '), table.concat(wires)}

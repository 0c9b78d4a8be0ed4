-- Take up to max_size queued messages from the head of a lane as one new batch, in one step.
-- Ids no longer 'queued' (cancelled, or already handled) are dropped from the lane on the way; a
-- message whose deadline passed by Redis' clock is finished instead of taken: 'expired' if it was
-- never sent, 'failed' if earlier attempts were made. At most `max_scan` ids are looked at per call,
-- so a lane full of cancelled or expired ids never holds Redis for long.
-- KEYS[1] {P}:lane:<lane>   KEYS[2] {P}:inflight
-- ARGV[1..2] prelude; ARGV[3] max_size; ARGV[4] batch id; ARGV[5] lane; ARGV[6] worker;
-- ARGV[7] take timeout, s (the batch goes back to its lane if not posted by NOW + this);
-- ARGV[8] max_scan
-- Returns {ids, attempts, deadlines, wire lengths} each space-joined, then the wire items
-- concatenated (five strings however large the batch: the client parses them far faster than
-- 4,000 separate replies), then how many expired and failed on the way. ids is '' when nothing was
-- taken; an empty list when the lane had nothing at all to look at. Called again with the same batch
-- id (a retry after a lost reply), it returns that batch and takes nothing more.
local max_size = tonumber(ARGV[3])
local batch_id = ARGV[4]
local max_scan = tonumber(ARGV[8])
local reason = 'batch ' .. batch_id
local taken = {}
local attempts, deadlines, wire_lengths, wires = {}, {}, {}, {}
local scanned, expired, failed = 0, 0, 0

local function add(id, f)
  local n = #taken + 1
  taken[n] = id
  wires[n] = f[7]
  wire_lengths[n] = #f[7]
  attempts[n] = f[8]
  deadlines[n] = f[9]
end

-- Called again with the same batch id (a retry after a lost reply): the batch taken then, as it is.
local existing = redis.call('HGET', ROOT .. 'b:' .. batch_id, 'ids')
if existing then
  for id in string.gmatch(existing, '%S+') do
    add(id, redis.call('HMGET', ROOT .. 'm:' .. id, 'st', 'cp', 'ik', 'h', 'pv', 'ch', 'w', 'at', 'dl'))
  end
  scanned = max_scan
end

while #taken < max_size and scanned < max_scan do
  local popped = redis.call('LPOP', KEYS[1], math.min(max_size - #taken, max_scan - scanned))
  if not popped then
    break
  end
  scanned = scanned + #popped
  for _, id in ipairs(popped) do
    local key = ROOT .. 'm:' .. id
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch', 'w', 'at', 'dl')
    if f[1] == 'queued' then
      if tonumber(f[9]) <= NOW then
        if f[8] == '0' then
          local why = 'deadline passed'
          if move(key, f, 'expired', why, {'rs', why}) then
            expired = expired + 1
          end
        else
          local why = 'deadline passed before a retry succeeded'
          if move(key, f, 'failed', why, {'rs', why}) then
            failed = failed + 1
          end
        end
      elseif move(key, f, 'sending', reason) then
        add(id, f)
      end
    end
  end
end

flush_counts()
if scanned == 0 then
  return {}
end
if #taken == 0 then
  return {'', '', '', '', '', expired, failed}
end
local joined_ids = table.concat(taken, ' ')
if not existing then
  redis.call('HSET', ROOT .. 'b:' .. batch_id, 'ln', ARGV[5], 'ids', joined_ids, 'st', 'taken',
    'tk', string.format('%.3f', NOW), 'wk', ARGV[6])
  redis.call('ZADD', KEYS[2], NOW + tonumber(ARGV[7]), batch_id)
end
return {joined_ids, table.concat(attempts, ' '), table.concat(deadlines, ' '),
  table.concat(wire_lengths, ' '), table.concat(wires), expired, failed}

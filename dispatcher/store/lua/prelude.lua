-- Shared prelude, prepended to every script that moves messages (see scripts.py).
-- Every such script takes the same first three ARGV:
--   ARGV[1] key root "{P}:"   ARGV[2] now, epoch ms (integer)   ARGV[3] retention_s of finished messages
-- ALLOWED (source -> set of targets) and FINAL are rendered from dispatcher/store/states.py here:
--@STATE_TABLES@
local ROOT = ARGV[1]
local NOW_MS = ARGV[2]
local RETENTION_S = tonumber(ARGV[3])

-- Campaign counter changes, summed per script run and written once per (campaign, state).
local counter_deltas = {}

local function count(campaign, state, delta)
  local per_state = counter_deltas[campaign]
  if not per_state then
    per_state = {}
    counter_deltas[campaign] = per_state
  end
  per_state[state] = (per_state[state] or 0) + delta
end

local function flush_counts()
  for campaign, per_state in pairs(counter_deltas) do
    local key = ROOT .. 'c:' .. campaign
    for state, delta in pairs(per_state) do
      if delta ~= 0 then
        redis.call('HINCRBY', key, 'n:' .. state, delta)
      end
    end
  end
  counter_deltas = {}
end

-- The fields every move needs; scripts read them with HMGET(key, unpack(MOVE_FIELDS), ...more).
local MOVE_FIELDS = {'st', 'cp', 'ik', 'h'}

-- Move one message (fields f as read with MOVE_FIELDS first) to target, appending the event to its
-- history. A move the table refuses is recorded as 'ignored:<reason>' and changes nothing else.
-- extra: optional flat field/value list written together with the state. Returns true if moved.
local function move(key, f, target, reason, extra)
  local source = f[1]
  if not source then
    return false
  end
  local event = NOW_MS .. ' ' .. source .. ' ' .. target .. ' '
  local history = f[4] or ''
  if not (ALLOWED[source] and ALLOWED[source][target]) then
    redis.call('HSET', key, 'h', history .. event .. 'ignored:' .. reason .. '\n')
    return false
  end
  local args = {'HSET', key, 'st', target, 'h', history .. event .. reason .. '\n'}
  if extra then
    for i = 1, #extra do
      args[#args + 1] = extra[i]
    end
  end
  redis.call(unpack(args))
  if f[2] then
    count(f[2], source, -1)
    count(f[2], target, 1)
  end
  if FINAL[target] then
    redis.call('EXPIRE', key, RETENTION_S)
    if f[3] then
      redis.call('EXPIRE', ROOT .. 'idem:' .. f[3], RETENTION_S)
    end
  end
  return true
end

-- The ids still in a batch, as a set (id -> true); nil when the batch no longer exists. Scripts
-- that act for a batch touch only these: ids that left it (recorded, reclaimed by beat, reconciled)
-- belong to someone else now, and moving them could send them twice.
local function batch_members(batch_key)
  local joined = redis.call('HGET', batch_key, 'ids')
  if not joined then
    return nil
  end
  local members = {}
  for id in string.gmatch(joined, '%S+') do
    members[id] = true
  end
  return members
end

-- Remove ids (a set: id -> true) from batch batch_id; a batch left empty is deleted and leaves inflight.
local function detach(batch_key, inflight_key, batch_id, gone)
  local joined = redis.call('HGET', batch_key, 'ids')
  if not joined then
    return
  end
  local left = {}
  for id in string.gmatch(joined, '%S+') do
    if not gone[id] then
      left[#left + 1] = id
    end
  end
  if #left == 0 then
    redis.call('DEL', batch_key)
    redis.call('ZREM', inflight_key, batch_id)
  else
    redis.call('HSET', batch_key, 'ids', table.concat(left, ' '))
  end
end

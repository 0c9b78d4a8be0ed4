-- Shared prelude, prepended to every script that moves messages (see scripts.py).
-- Every such script takes the same first two ARGV (its own start at ARGV[3]):
--   ARGV[1] key root "{P}:"   ARGV[2] retention_s of finished messages
-- and reads the time from Redis (NOW, NOW_MS: clock.lua), never from its caller.
-- ALLOWED (source -> set of targets) and FINAL are rendered from dispatcher/store/states.py here:
--@STATE_TABLES@
--@include clock
local ROOT = ARGV[1]
local RETENTION_S = tonumber(ARGV[2])

-- Counter changes, summed per script run and written once per (hash, field) by flush_counts:
-- campaign counters ({P}:c:<campaign>, 'n:<state>') and the store-wide statistics ({P}:stats,
-- see count_stats) that the store's Prometheus collector reads.
local counter_deltas = {}

local function add_count(key, field, delta)
  local per_field = counter_deltas[key]
  if not per_field then
    per_field = {}
    counter_deltas[key] = per_field
  end
  per_field[field] = (per_field[field] or 0) + delta
end

local function count(campaign, state, delta)
  add_count(ROOT .. 'c:' .. campaign, 'n:' .. state, delta)
end

-- {P}:stats fields: 'e|<provider>|<channel>|<state>' counts messages that ever entered the state;
-- 'n|...' counts those in a non-final state now (final ones expire with retention, so a count of
-- them now would only drift). Messages stored without a channel count as '?'. source is nil for
-- a message just stored.
local STATS = ROOT .. 'stats'

local function count_stats(provider, channel, source, target)
  local group = (provider or '?') .. '|' .. (channel or '?') .. '|'
  if source and not FINAL[source] then
    add_count(STATS, 'n|' .. group .. source, -1)
  end
  if not FINAL[target] then
    add_count(STATS, 'n|' .. group .. target, 1)
  end
  add_count(STATS, 'e|' .. group .. target, 1)
end

local function flush_counts()
  for key, per_field in pairs(counter_deltas) do
    for field, delta in pairs(per_field) do
      if delta ~= 0 then
        redis.call('HINCRBY', key, field, delta)
      end
    end
  end
  counter_deltas = {}
end

-- The fields every move needs, in this order; scripts read them with
-- HMGET(key, 'st', 'cp', 'ik', 'h', 'pv', 'ch', ...more) and find their own fields from f[7] on.
--
-- Move one message (fields f read as above) to target, appending the event to its
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
  count_stats(f[5], f[6], source, target)
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

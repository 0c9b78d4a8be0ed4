-- Record what the provider said about each message of a request; recorded ids leave the batch.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight   KEYS[3] {P}:pidx:<account>
-- ARGV[1..2] prelude; ARGV[3] batch id
-- ARGV[4] JSON array, 3 strings per message: id, 'S' (submitted) or 'R' (rejected), provider
--         message id or '<code> <reason>'
-- A submitted id is indexed under its provider id even if its state refuses the move: the
-- provider holds it, so its reports must find it.
local gone = {}
local index = {}
local flat = cjson.decode(ARGV[4])
for i = 1, #flat, 3 do
  local id, kind, value = flat[i], flat[i + 1], flat[i + 2]
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
  if f[1] then
    if kind == 'S' then
      move(key, f, 'submitted', 'pid ' .. value, {'pid', value})
      index[#index + 1] = value
      index[#index + 1] = id
    else
      move(key, f, 'rejected', value, {'rs', value})
    end
  end
  gone[id] = true
end
-- One HSET per 500 pairs rather than one per message: each redis.call costs about a microsecond.
for first = 1, #index, 1000 do
  redis.call('HSET', KEYS[3], unpack(index, first, math.min(first + 999, #index)))
end
detach(KEYS[1], KEYS[2], ARGV[3], gone)
flush_counts()
return 1

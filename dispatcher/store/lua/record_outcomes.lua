-- Record what the provider said about each message of a request; recorded ids leave the batch.
-- KEYS[1] {P}:b:<batch>   KEYS[2] {P}:inflight   KEYS[3] {P}:pidx:<account>
-- ARGV[1..3] prelude; ARGV[4] batch id
-- ARGV[5] JSON array, 3 strings per message: id, 'S' (submitted) or 'R' (rejected), provider
--         message id or '<code> <reason>'
-- A submitted id is indexed under its provider id even if its state refuses the move: the
-- provider holds it, so its reports must find it.
local gone = {}
local flat = cjson.decode(ARGV[5])
for i = 1, #flat, 3 do
  local id, kind, value = flat[i], flat[i + 1], flat[i + 2]
  local key = ROOT .. 'm:' .. id
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h')
  if f[1] then
    if kind == 'S' then
      move(key, f, 'submitted', 'pid ' .. value, {'pid', value})
      redis.call('HSET', KEYS[3], value, id)
    else
      move(key, f, 'rejected', value, {'rs', value})
    end
  end
  gone[id] = true
end
detach(KEYS[1], KEYS[2], ARGV[4], gone)
flush_counts()
return 1

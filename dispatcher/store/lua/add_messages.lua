-- Store a chunk of new messages as 'queued' and append them to their lanes, in order.
-- KEYS[1] {P}:lanes (set of lane names)
-- ARGV[1..3] prelude (root, now ms, retention s); ARGV[4] now, epoch s (the 'ct' text)
-- ARGV[5] JSON array, 8 strings per message: id, lane, provider, wire, deadline (epoch s),
--         campaign or '', idempotency key or '', channel or ''  (one argument: redis-py packs 7,000 separate
--         arguments slower than Redis stores the messages)
-- ARGV[6] '1' to hold the messages out of their lanes (a campaign still being checked; its ids
--         are in the campaign's id list and go to the lane with release_campaign), else '0'
-- Returns a flat list position (0-based), existing id for each message whose idempotency key is
-- known (nothing is stored for it); every other message keeps its own id. An id already present is
-- never overwritten.
local created_at = ARGV[4]
local intake_event = NOW_MS .. ' accepted queued intake\n'
local known = {}         -- position in the chunk, existing id: per known idempotency key
local lane_ids = {}      -- lane -> ids to RPUSH, in order
local campaign_ids = {}  -- campaign -> ids to RPUSH, in order

local function append(groups, name, id)
  local group = groups[name]
  if not group then
    group = {}
    groups[name] = group
  end
  group[#group + 1] = id
end

local flat = cjson.decode(ARGV[5])
for i = 1, #flat, 8 do
  local id, idem = flat[i], flat[i + 6]
  local existing = idem ~= '' and redis.call('GET', ROOT .. 'idem:' .. idem)
  if existing then
    known[#known + 1] = (i - 1) / 8
    known[#known + 1] = existing
  else
    local key = ROOT .. 'm:' .. id
    if redis.call('EXISTS', key) == 0 then
      local lane, provider, campaign, channel = flat[i + 1], flat[i + 2], flat[i + 5], flat[i + 7]
      local fields = {'HSET', key, 'st', 'queued', 'ln', lane, 'pv', provider, 'w', flat[i + 3],
        'ct', created_at, 'dl', flat[i + 4], 'at', '0', 'h', intake_event}
      if channel ~= '' then
        fields[#fields + 1] = 'ch'
        fields[#fields + 1] = channel
      else
        channel = nil
      end
      count_stats(provider, channel, nil, 'queued')
      if campaign ~= '' then
        fields[#fields + 1] = 'cp'
        fields[#fields + 1] = campaign
        append(campaign_ids, campaign, id)
      end
      if idem ~= '' then
        fields[#fields + 1] = 'ik'
        fields[#fields + 1] = idem
        redis.call('SET', ROOT .. 'idem:' .. idem, id)
      end
      redis.call(unpack(fields))
      append(lane_ids, lane, id)
    end
  end
end

if ARGV[6] ~= '1' then
  for lane, ids in pairs(lane_ids) do
    redis.call('RPUSH', ROOT .. 'lane:' .. lane, unpack(ids))
    redis.call('SADD', KEYS[1], lane)
  end
end
for campaign, ids in pairs(campaign_ids) do
  redis.call('RPUSH', ROOT .. 'c:' .. campaign .. ':ids', unpack(ids))
  redis.call('HINCRBY', ROOT .. 'c:' .. campaign, 'total', #ids)
  redis.call('HINCRBY', ROOT .. 'c:' .. campaign, 'n:queued', #ids)
end
flush_counts()
return known

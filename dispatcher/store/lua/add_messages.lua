-- Store a chunk of new messages as 'queued' and append them to their lanes, in order, together with
-- what each carries beyond its wire item (extras): all in one script, so a message never exists
-- without its send time, fallback or webhook, even when Redis refuses writes half-way (OOM refuses
-- a script at its first write, never after it).
-- KEYS[1] {P}:lanes   KEYS[2] {P}:sched   KEYS[3] {P}:fbdue   KEYS[4] {P}:wh:watch
-- ARGV[1..2] prelude (root, retention s)
-- ARGV[3] JSON array, 9 strings per message: id, lane, provider, wire, ttl (s: its deadline is its
--         send time -- "at" below, or NOW -- plus ttl), campaign or '', idempotency key or '', channel
--         or '', request digest or '' (what the key stands for)  (one argument: redis-py packs 7,000
--         separate arguments slower than Redis stores them)
-- ARGV[4] the owner token of the campaign being checked, to hold the messages out of their lanes
--         (their ids are in the campaign's id list and go to the lane with release_campaign), or ''
--         for messages that go to their lanes now. The campaign must still be 'checking' under
--         that owner (claim_campaign), or nothing is stored: {2} (the claim was lost).
-- ARGV[5] JSON object of extras by message id, or '' for none:
--   {"at": release epoch s, "f": [field, value, ...], "fd": s after its send time (or NOW) by which
--    delivered/read must come, else the SMS fallback is claimed, "watch": true,
--    "fo": RCS id this SMS is the fallback of}   (each member optional)
--   A message whose "at" is after NOW is moved 'queued' -> 'scheduled' and waits in {P}:sched, in no
--   lane, until "at"; one whose "at" has passed by Redis' clock goes to its lane like any other.
--   "fo" links the SMS to its RCS message and closes that message's fallback claim in {P}:fbdue.
-- Returns {0, position (0-based), existing id, ...} for each message whose idempotency key is known
-- for the same request (nothing is stored for it); every other message keeps its own id. A key known
-- for ANOTHER request (another digest) stores nothing of the chunk: {1, position, existing id}. An
-- id already present is never overwritten and gets nothing of its extras again: calling twice with
-- the same messages (a retry after a lost reply) stores them once.
local created_at = string.format('%.3f', NOW)
local intake_event = NOW_MS .. ' accepted queued intake\n'
local hold = ARGV[4] ~= ''
local all_extras = ARGV[5] ~= '' and cjson.decode(ARGV[5]) or {}
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

-- The extras of a message just stored (at: its send time, or nil); returns true when it waits for it.
local function apply_extras(key, id, extras, at)
  if extras.f then
    redis.call('HSET', key, unpack(extras.f))
  end
  if extras.fo then
    redis.call('HSET', key, 'fo', extras.fo)
    redis.call('ZREM', KEYS[3], extras.fo)
  end
  if extras.fd then
    redis.call('ZADD', KEYS[3], math.max(at or NOW, NOW) + extras.fd, id)
  end
  if extras.watch then
    redis.call('ZADD', KEYS[4], NOW, id)
  end
  if at and at > NOW then
    local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
    move(key, f, 'scheduled', string.format('send at %.3f', at))
    redis.call('ZADD', KEYS[2], at, id)
    return true
  end
  return false
end

local flat = cjson.decode(ARGV[3])
local FIELDS = 9
-- Every key first: a conflict refuses the chunk before anything of it is written. A key given
-- twice in the chunk stands for its first message (stored below before the second is reached).
local existing_for = {}
local first_in_chunk = {}
local checked_claims = {}
for i = 1, #flat, FIELDS do
  local idem, digest, campaign = flat[i + 6], flat[i + 8], flat[i + 5]
  if hold and not checked_claims[campaign] then
    local claim = redis.call('HMGET', ROOT .. 'c:' .. campaign, 'ph', 'ow')
    if claim[1] ~= 'checking' or claim[2] ~= ARGV[4] then
      return {2}
    end
    checked_claims[campaign] = true
  end
  if idem ~= '' then
    local first = first_in_chunk[idem]
    local existing, stored_digest
    if first then
      existing, stored_digest = existing_for[first] or flat[first], flat[first + 8]
    else
      first_in_chunk[idem] = i
      existing = redis.call('GET', ROOT .. 'idem:' .. idem)
      stored_digest = existing and redis.call('HGET', ROOT .. 'm:' .. existing, 'kd')
    end
    if existing then
      -- A record stored before digests were kept has none: it answers as a replay.
      if stored_digest and stored_digest ~= '' and stored_digest ~= digest then
        return {1, (i - 1) / FIELDS, existing}
      end
      existing_for[i] = existing
    end
  end
end
for i = 1, #flat, FIELDS do
  local id, idem = flat[i], flat[i + 6]
  local existing = existing_for[i]
  if existing then
    known[#known + 1] = (i - 1) / FIELDS
    known[#known + 1] = existing
  else
    local key = ROOT .. 'm:' .. id
    if redis.call('EXISTS', key) == 0 then
      local lane, provider, campaign, channel = flat[i + 1], flat[i + 2], flat[i + 5], flat[i + 7]
      local extras = all_extras[id]
      local at = extras and extras.at
      -- Counted from the send time: a message scheduled days ahead has its whole time to live then.
      local deadline = math.max(at or NOW, NOW) + tonumber(flat[i + 4])
      local fields = {'HSET', key, 'st', 'queued', 'ln', lane, 'pv', provider, 'w', flat[i + 3],
        'ct', created_at, 'dl', string.format('%.3f', deadline), 'at', '0', 'h', intake_event}
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
        fields[#fields + 1] = 'kd'
        fields[#fields + 1] = flat[i + 8]
        redis.call('SET', ROOT .. 'idem:' .. idem, id)
      end
      redis.call(unpack(fields))
      local waits = extras and apply_extras(key, id, extras, at)
      if not (hold or waits) then
        append(lane_ids, lane, id)
      end
    end
  end
end

for lane, ids in pairs(lane_ids) do
  redis.call('RPUSH', ROOT .. 'lane:' .. lane, unpack(ids))
  redis.call('SADD', KEYS[1], lane)
end
for campaign, ids in pairs(campaign_ids) do
  redis.call('RPUSH', ROOT .. 'c:' .. campaign .. ':ids', unpack(ids))
  redis.call('HINCRBY', ROOT .. 'c:' .. campaign, 'total', #ids)
  -- Counted as entering 'queued'; those scheduled above moved on already (move counted that).
  redis.call('HINCRBY', ROOT .. 'c:' .. campaign, 'n:queued', #ids)
end
flush_counts()
table.insert(known, 1, 0)
return known

-- Shared by the scripts that apply provider reports (included with --@include report_events).
-- Needs the prelude (move, NOW_MS).

-- States whose reason is worth keeping in 'rs' (the message's last reason).
local KEEPS_REASON = {undelivered = true, expired = true, failed = true, unknown = true}

-- Apply one provider event to message key: target '' is an event for the history only (click,
-- price); a move the table refuses (a duplicate, a late 'sent') is kept in the history only.
-- Returns moved (boolean), the state after ('' for a message that no longer exists).
local function apply_event(key, target, reason)
  local f = redis.call('HMGET', key, 'st', 'cp', 'ik', 'h', 'pv', 'ch')
  if not f[1] then
    return false, ''
  end
  if target == '' then
    redis.call('HSET', key, 'h', (f[4] or '') .. NOW_MS .. ' ' .. f[1] .. ' ' .. f[1] .. ' ' .. reason .. '\n')
    return false, f[1]
  end
  local extra = KEEPS_REASON[target] and {'rs', reason} or nil
  if move(key, f, target, reason, extra) then
    return true, target
  end
  return false, f[1]
end

-- Our id for a provider id, searched in the indexes of the given accounts (space-separated).
local function find_by_provider_id(accounts, provider_id)
  for account in string.gmatch(accounts, '%S+') do
    local id = redis.call('HGET', ROOT .. 'pidx:' .. account, provider_id)
    if id then
      return id
    end
  end
  return nil
end

-- Per-message order of webhook events: a message's events wait in its queue ({P}:wh:q:<message>,
-- event ids oldest first) and only the oldest is in {P}:wh:due, so a receiver gets `sending` before
-- `sent` whatever the retries; when it is delivered or dropped, the next one becomes due.
-- Needs NOW (the clock include). Event ids are '<message id>.<history offset>'.
local function webhook_queue_key(root, event_id)
  return root .. 'wh:q:' .. string.match(event_id, '^(.*)%.%d+$')
end

-- Make the oldest event of the queue that still exists due now; events whose hash expired are
-- dropped from the queue on the way.
local function webhook_promote_next(root, queue_key, due_key)
  while true do
    local head = redis.call('LINDEX', queue_key, 0)
    if not head then
      return
    end
    if redis.call('EXISTS', root .. 'wh:e:' .. head) == 1 then
      redis.call('ZADD', due_key, NOW, head)
      return
    end
    redis.call('LPOP', queue_key)
  end
end

-- The event is done (delivered, dropped or expired): out of the due set and its queue, and the
-- message's next event due.
local function webhook_finish(root, event_id, due_key)
  local queue_key = webhook_queue_key(root, event_id)
  redis.call('DEL', root .. 'wh:e:' .. event_id)
  redis.call('ZREM', due_key, event_id)
  redis.call('LREM', queue_key, 1, event_id)
  webhook_promote_next(root, queue_key, due_key)
end

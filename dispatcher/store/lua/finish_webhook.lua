-- A webhook event was delivered (2xx) or is dropped (attempts exhausted): delete it and make the
-- next event of its message due (webhook_queue). Idempotent: a second call changes nothing.
-- KEYS[1] {P}:wh:due
-- ARGV[1] key root; ARGV[2] event id
--@include clock
--@include webhook_queue
webhook_finish(ARGV[1], ARGV[2], KEYS[1])
return 1

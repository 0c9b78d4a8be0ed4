-- Redis' clock: the only one that processes compare times by (a worker's own clock may be minutes
-- off). NOW: epoch s (float); NOW_MS: epoch ms as text, for history lines. Callers pass durations.
local CLOCK = redis.call('TIME')
local NOW = tonumber(CLOCK[1]) + tonumber(CLOCK[2]) / 1000000
local NOW_MS = CLOCK[1] .. string.format('%03d', math.floor(tonumber(CLOCK[2]) / 1000))

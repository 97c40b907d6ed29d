-- KEYS: the call's waiting page-tool requests (sorted set: request id -> expiry in ms). ARGV: request id,
-- the most that may wait at once, ttl (ms). 1 when the request now waits, 0 when the call has too many.
local now = now_ms()
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
keep_until_last(KEYS[1], now)
return 1

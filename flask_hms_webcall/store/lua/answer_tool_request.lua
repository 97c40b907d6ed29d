-- KEYS: the call's waiting requests (sorted set), the request's answer (a list). ARGV: request id, the
-- answer, ttl (ms). Only a request still waiting takes an answer, once: 1 when taken, else 0 (unknown,
-- another call's, answered already, or its time is up).
local now = now_ms()
local expires = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expires then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
if tonumber(expires) <= now then return 0 end
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 1

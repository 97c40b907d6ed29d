-- KEYS: the call's waiting requests (sorted set), the request's answer (a list). ARGV: request id.
-- The asker stops waiting: no answer is taken after this; one that came just before is returned.
redis.call('ZREM', KEYS[1], ARGV[1])
local answer = redis.call('LPOP', KEYS[2])
redis.call('DEL', KEYS[2])
return answer

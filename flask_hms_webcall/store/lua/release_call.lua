-- The call ended: free its slot. Its minutes are settled separately, by the end-of-call-report.
-- KEYS: org zset, call hash, anonymous zset. ARGV: user zset key prefix, slot hash key prefix.
-- Returns the user key, or false when the call is unknown or already released.
local org, call, anon = KEYS[1], KEYS[2], KEYS[3]
local user_prefix, slot_prefix = ARGV[1], ARGV[2]
local fields = redis.call('HMGET', call, 'slot', 'user')
redis.call('DEL', call)
if not fields[1] or not fields[2] then return false end
redis.call('ZREM', org, fields[1])
redis.call('ZREM', anon, fields[1])
redis.call('ZREM', user_prefix .. fields[2], fields[1])
redis.call('DEL', slot_prefix .. fields[1])
return fields[2]

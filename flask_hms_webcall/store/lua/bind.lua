-- The slot became an HMS call: renew the slot, map call -> slot, and keep what settling the call needs.
-- KEYS: org zset, slot hash, call hash, call record hash, anonymous zset.
-- ARGV: slot_id, call_id, ttl_ms, user zset key prefix, record_ttl_ms.
local org, slot, call, record, anon = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local slot_id, call_id, ttl, user_prefix, record_ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local now = now_ms()
local fields = redis.call('HMGET', slot, 'user', 'reserved', 'budgets')
local user_key = fields[1]
if not user_key or not redis.call('ZSCORE', org, slot_id) then return 0 end
local user = user_prefix .. user_key
local expires = now + ttl
redis.call('ZADD', org, expires, slot_id)
redis.call('ZADD', user, expires, slot_id)
keep_until_last(org, now)
keep_until_last(user, now)
if redis.call('ZSCORE', anon, slot_id) then
  redis.call('ZADD', anon, expires, slot_id)
  keep_until_last(anon, now)
end
redis.call('PEXPIRE', slot, ttl)
redis.call('DEL', call)
redis.call('HSET', call, 'slot', slot_id, 'user', user_key)
redis.call('PEXPIRE', call, ttl)
redis.call('DEL', record)
redis.call('HSET', record, 'user', user_key, 'reserved', fields[2] or '0', 'budgets', fields[3] or '[]')
redis.call('PEXPIRE', record, record_ttl)
return 1

-- Creating the call failed: free the slot (never bound to a call) and give its reserved minutes back.
-- KEYS: org zset, slot hash, anonymous zset. ARGV: slot_id, user zset key prefix, budget key prefix.
local org, slot, anon = KEYS[1], KEYS[2], KEYS[3]
local slot_id, user_prefix, budget_prefix = ARGV[1], ARGV[2], ARGV[3]
local fields = redis.call('HMGET', slot, 'user', 'reserved', 'budgets')
redis.call('ZREM', org, slot_id)
redis.call('ZREM', anon, slot_id)
if fields[1] then redis.call('ZREM', user_prefix .. fields[1], slot_id) end
if fields[2] and fields[3] then refund(budget_prefix, fields[3], tonumber(fields[2])) end
redis.call('DEL', slot)
return 1

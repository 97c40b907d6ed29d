-- The call reported how long it lasted: give back what was reserved beyond that, once.
-- KEYS: call record hash. ARGV: duration (seconds), budget key prefix.
-- Returns the seconds given back, or -1 when the call is unknown or already settled.
local record = KEYS[1]
local duration, budget_prefix = tonumber(ARGV[1]), ARGV[2]
local fields = redis.call('HMGET', record, 'reserved', 'budgets', 'settled')
if not fields[1] or fields[3] then return -1 end
local reserved = tonumber(fields[1])
local unused = reserved - math.min(math.max(duration, 0), reserved)
if unused > 0 then refund(budget_prefix, fields[2], unused) end
redis.call('HSET', record, 'settled', '1')
return unused

-- Creating the call failed: free the slot and give its reserved minutes back.
-- KEYS: org zset, slot hash, anonymous zset. ARGV: slot_id, user zset key prefix, call hash key prefix,
-- budget key prefix.
local org, slot, anon = KEYS[1], KEYS[2], KEYS[3]
local slot_id, user_prefix, call_prefix, budget_prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local fields = redis.call('HMGET', slot, 'user', 'call', 'reserved', 'budgets')
redis.call('ZREM', org, slot_id)
redis.call('ZREM', anon, slot_id)
if fields[1] then redis.call('ZREM', user_prefix .. fields[1], slot_id) end
if fields[2] then
  redis.call('DEL', call_prefix .. fields[2])
elseif fields[3] and fields[4] then
  local reserved = tonumber(fields[3])
  for _, name in ipairs(cjson.decode(fields[4])) do
    local key = budget_prefix .. name
    if redis.call('EXISTS', key) == 1 then
      local left = redis.call('DECRBY', key, reserved)
      if left < 0 then redis.call('SET', key, 0, 'KEEPTTL') end
    end
  end
end
redis.call('DEL', slot)
return 1

-- Reserve a concurrency slot and the call's maximum minutes against every daily budget, all or nothing.
-- KEYS: org zset, user zset, slot hash, anonymous zset, then one counter per budget.
-- ARGV: slot_id, user_key, max_user, max_org, ttl_ms, anonymous (0/1), max_anonymous, reserve (seconds),
--       budget keys as JSON, then per budget: limit (seconds), ttl_ms.
-- Returns {admitted (0/1), reason ('' / 'user' / 'budget' / 'anonymous' / 'org'), retry_after_ms (-1: none),
--          index of the refusing budget (0: none)}.
local org, user, slot, anon = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local slot_id, user_key = ARGV[1], ARGV[2]
local max_user, max_org, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local anonymous, max_anon, reserve = ARGV[6] == '1', tonumber(ARGV[7]), tonumber(ARGV[8])
local budget_names = ARGV[9]
local budgets = #KEYS - 4
local now = now_ms()
for _, key in ipairs({org, user, anon}) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
end
local function soonest(key)
  local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  if first[2] then return tonumber(first[2]) - now end
  return -1
end
local expires = now + ttl
if redis.call('ZCARD', user) >= max_user then return {0, 'user', soonest(user), 0} end
for i = 1, budgets do
  local limit = tonumber(ARGV[8 + 2 * i])
  local used = tonumber(redis.call('GET', KEYS[4 + i]) or '0')
  if used + reserve > limit then return {0, 'budget', -1, i} end
end
if anonymous and redis.call('ZCARD', anon) >= max_anon then return {0, 'anonymous', soonest(anon), 0} end
if redis.call('ZCARD', org) >= max_org then return {0, 'org', soonest(org), 0} end
for i = 1, budgets do
  local key, budget_ttl = KEYS[4 + i], tonumber(ARGV[9 + 2 * i])
  redis.call('INCRBY', key, reserve)
  if redis.call('PTTL', key) < budget_ttl then redis.call('PEXPIRE', key, budget_ttl) end
end
redis.call('ZADD', org, expires, slot_id)
redis.call('ZADD', user, expires, slot_id)
keep_until_last(org, now)
keep_until_last(user, now)
if anonymous then
  redis.call('ZADD', anon, expires, slot_id)
  keep_until_last(anon, now)
end
redis.call('DEL', slot)
redis.call('HSET', slot, 'user', user_key, 'anonymous', anonymous and '1' or '0', 'reserved', reserve,
  'budgets', budget_names)
redis.call('PEXPIRE', slot, ttl)
return {1, '', -1, 0}

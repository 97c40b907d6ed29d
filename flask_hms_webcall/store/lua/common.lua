-- Shared by the scripts that need "now": Redis's own clock, so every worker and host agrees; integer ms.
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A sorted set of slot id -> expiry lives as long as its last member.
local function keep_until_last(key, now)
  local last = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('PEXPIRE', key, math.max(1, tonumber(last[2]) - now + 1000))
  end
end
-- Give `seconds` back to each budget named in the JSON list `names`, never below zero; a counter that has
-- already expired (its day is long over) stays gone.
local function refund(budget_prefix, names, seconds)
  for _, name in ipairs(cjson.decode(names)) do
    local key = budget_prefix .. name
    if redis.call('EXISTS', key) == 1 then
      local left = redis.call('DECRBY', key, seconds)
      if left < 0 then redis.call('SET', key, 0, 'KEEPTTL') end
    end
  end
end

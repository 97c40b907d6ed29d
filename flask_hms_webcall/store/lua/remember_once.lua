-- KEYS: the key. ARGV: value, ttl (ms). Keeps the value unless one is kept: nil, or the value kept first.
-- One script rather than SET NX GET, which Redis before 7.0 refuses.
local kept = redis.call('GET', KEYS[1])
if kept then return kept end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false

-- KEYS: a slot zset. Counts the slots that have not expired.
return redis.call('ZCOUNT', KEYS[1], '(' .. now_ms(), '+inf')

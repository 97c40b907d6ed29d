-- KEYS: delivery key. Deletes it only while it is an unfinished claim.
if redis.call('GET', KEYS[1]) == 'pending' then redis.call('DEL', KEYS[1]) end
return 1

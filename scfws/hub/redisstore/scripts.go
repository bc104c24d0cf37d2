package redisstore

import "github.com/redis/go-redis/v9"

// zaddSrc: KEYS: set. ARGV: score, member, ttl ms, mode. Adds (or, with
// mode "xx", only updates) and keeps the set alive at least ttl. Pipelines
// send it with EVAL: EVALSHA cannot fall back to EVAL inside a pipeline.
const zaddSrc = `
if ARGV[4] == 'xx' then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[1], ARGV[2])
else
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1`

// Scripts, each on the keys of one slot.
var (
	// KEYS: conn, rooms. ARGV: ttl ms, field, value, …
	// Replaces the connection; returns {old user or false, old rooms}.
	addScript = redis.NewScript(`
local user = redis.call('HGET', KEYS[1], 'user')
local rooms = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {user, rooms}`)

	// KEYS: conn, rooms. Deletes; returns false when absent, else {user, rooms}.
	removeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local user = redis.call('HGET', KEYS[1], 'user')
local rooms = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
return {user, rooms}`)

	// KEYS: conn, rooms. ARGV: ttl ms. Returns false when absent, else {user, rooms}.
	touchScript = redis.NewScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return false end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return {redis.call('HGET', KEYS[1], 'user'), redis.call('SMEMBERS', KEYS[2])}`)

	// KEYS: conn, rooms. ARGV: room. Returns the connection's PTTL, or -2 when absent.
	joinScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return -2 end
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
return ttl`)

	// KEYS: conn, rooms. ARGV: room. Returns 0 when the connection is absent.
	leaveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SREM', KEYS[2], ARGV[1])
return 1`)

	zaddScript = redis.NewScript(zaddSrc)
)

package redisstore

import "github.com/redis/go-redis/v9"

// Scripts, each on the keys of one slot.
//
// The connection steps (KEYS: conn, rooms, seq) bump the connection's
// sequence number and return it: every change to the connection's rooms or
// user is stamped with it. The index step applies such a change to a room's
// or user's sorted set only if it is newer than the last one applied there
// for that connection, so that two operations on one connection whose steps
// interleave across slots leave the indexes as the later one says.
var (
	// ARGV: seq life ms, ttl ms, field, value, … Replaces the connection;
	// returns {seq, old user or false, old rooms}.
	addScript = redis.NewScript(`
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
local user = redis.call('HGET', KEYS[1], 'user')
local rooms = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {seq, user, rooms}`)

	// ARGV: seq life ms. Deletes; returns false when absent, else
	// {seq, user, rooms}. The sequence outlives the connection.
	removeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
local user = redis.call('HGET', KEYS[1], 'user')
local rooms = redis.call('SMEMBERS', KEYS[2])
redis.call('DEL', KEYS[1], KEYS[2])
return {seq, user, rooms}`)

	// ARGV: seq life ms, room. Returns {seq, the connection's PTTL}, or
	// false when it is absent.
	joinScript = redis.NewScript(`
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then return false end
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ttl)
return {seq, ttl}`)

	// ARGV: seq life ms, room. Returns seq, or false when the connection is absent.
	leaveScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local seq = redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[1])
redis.call('SREM', KEYS[2], ARGV[2])
return seq`)

	// ARGV: ttl ms, seq life ms, now (last active). Returns false when
	// absent, else {user, rooms}. Touch changes no membership: its index
	// updates are ZADD XX, which change only members still there.
	touchScript = redis.NewScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 0 then return false end
redis.call('HSET', KEYS[1], 'active', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {redis.call('HGET', KEYS[1], 'user'), redis.call('SMEMBERS', KEYS[2])}`)

	// KEYS: index (sorted set: connection → expiry), its versions (hash:
	// connection → "seq:time ms"). ARGV: connection, seq, op ("add",
	// "remove" or "touch"), expiry ms, ttl ms, now ms. Applies the change if
	// seq is newer than the connection's last (touch: if it is a member), and
	// keeps both keys alive at least ttl (touch too, so that a room nobody
	// joins or leaves does not expire under its touched members). When the
	// versions of connections no longer in the set outnumber the members,
	// those older than a minute (no operation is in flight that long) are
	// dropped — at most once each time the versions double (the field ""
	// holds the next threshold), so that the cost stays linear.
	indexScript = redis.NewScript(`
local ttl = tonumber(ARGV[5])
local function keepAlive()
  for _, k in ipairs(KEYS) do
    if redis.call('PTTL', k) < ttl then redis.call('PEXPIRE', k, ttl) end
  end
end
if ARGV[3] == 'touch' then
  redis.call('ZADD', KEYS[1], 'XX', ARGV[4], ARGV[1])
  if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
    keepAlive() -- a quiet room lives as long as its touched members
  end
  return 1
end
local cur = redis.call('HGET', KEYS[2], ARGV[1])
if cur and tonumber(string.match(cur, '^(%d+)')) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2] .. ':' .. ARGV[6])
if ARGV[3] == 'add' then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[1])
else
  redis.call('ZREM', KEYS[1], ARGV[1])
end
keepAlive()
local n = redis.call('HLEN', KEYS[2])
if n > 2 * redis.call('ZCARD', KEYS[1]) + 64 and n >= tonumber(redis.call('HGET', KEYS[2], '') or '0') then
  local all = redis.call('HGETALL', KEYS[2])
  local cutoff = tonumber(ARGV[6]) - 60000
  for i = 1, #all, 2 do
    if all[i] ~= '' and tonumber(string.match(all[i+1], ':(%d+)$')) < cutoff and not redis.call('ZSCORE', KEYS[1], all[i]) then
      redis.call('HDEL', KEYS[2], all[i])
    end
  end
  -- the next sweep once the versions have doubled: each costs no more than
  -- the operations since the last, so emptying a room stays linear
  redis.call('HSET', KEYS[2], '', 2 * redis.call('HLEN', KEYS[2]))
end
return 1`)
)

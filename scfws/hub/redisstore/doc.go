// Package redisstore is a [hub.Store] on Redis (TencentDB for Redis, or
// any Redis 6+ or Redis Cluster), through github.com/redis/go-redis/v9.
//
// # Layout
//
// With the default prefix "scfws", a connection ID id, a room r and a user u:
//
//	scfws:conn:{id}        hash: user, subprotocol, source IP, connected-at, meta (JSON)
//	scfws:conn:{id}:rooms  set of the rooms the connection joined
//	scfws:room:{r}         sorted set: member = connection ID, score = its expiry (Unix ms)
//	scfws:user:{u}         sorted set, likewise
//
// IDs and names are escaped ('%', '{' and '}' as %25, %7B, %7D) so that
// the braces are always the Redis Cluster hash tag: a connection's two keys
// share one slot, and each room and each user is one key in its own slot.
//
// # Atomicity and scaling
//
// No command spans two slots, so the store runs unchanged on Redis Cluster
// and spreads over its shards by connection, room and user; one room is one
// key, so a room's size is bounded by one shard's memory, not its count of
// members across the cluster. Each step on one slot is one Lua script or
// MULTI/EXEC, and the steps of Join and Remove are ordered (add to the room,
// then check the connection still exists, else undo) so that a connection
// removed while it joins is never left behind in a room.
//
// # Expiry
//
// Every connection expires TTL after it was added or last touched (cleanup is
// best effort): its hash and set carry the TTL, and its scores in the room
// and user sets are its expiry time, so reads skip and prune members whose
// connection has expired. Scores use this process's clock: keep the clocks of
// your function instances in sync (SCF's are).
package redisstore

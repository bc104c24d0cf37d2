// Package redisstore is a [hub.Store] on Redis (TencentDB for Redis, or
// any Redis 6+ or Redis Cluster), through github.com/redis/go-redis/v9.
//
// # Layout
//
// With the default prefix "scfws", a connection ID id, a room r and a user u:
//
//	scfws:conn:{id}        hash: user, subprotocol, source IP, connected-at, last-active, meta (JSON)
//	scfws:conn:{id}:rooms  set of the rooms the connection joined: the truth
//	scfws:conn:{id}:seq    the connection's sequence number
//	scfws:room:{r}         sorted set: member = connection ID, score = its expiry (Unix ms)
//	scfws:room:{r}:v       hash: connection ID → "seq:time" of its last change applied here
//	scfws:user:{u}         sorted set, likewise
//	scfws:user:{u}:v       hash, likewise
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
// members across the cluster.
//
// An operation that changes memberships (Add, Remove, Join, Leave) runs in
// two kinds of step, each one Lua script on one slot: first on the
// connection's slot, where its rooms set is the truth and its sequence
// number is bumped; then on each room's and user's slot, where the change is
// applied only if its sequence number is newer than the last one applied
// there for that connection. So whatever the interleaving of operations on
// one connection, across goroutines and processes (two quick messages from
// one client joining and leaving, a cleanup racing a message), every index
// ends as the connection's latest change says: no member lost, none invented.
// Nothing waits on a lock. The versions of connections that left are kept a
// minute at least (no operation is in flight longer), then dropped as the
// index is written. Touch changes no membership: it moves expiries with
// ZADD XX, which touches only members still there.
//
// # Expiry
//
// Every connection expires TTL after it was added or last touched (cleanup is
// best effort): its hash and set carry the TTL, and its scores in the room
// and user sets are its expiry time, so reads skip and prune members whose
// connection has expired. Scores use this process's clock: keep the clocks of
// your function instances in sync (SCF's are).
package redisstore

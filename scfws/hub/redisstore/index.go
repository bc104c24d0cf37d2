package redisstore

import (
	"context"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The index operations of a change.
const (
	opAdd    = "add"
	opRemove = "remove"
	opTouch  = "touch"
)

// change is one update of a room's or user's index (a sorted set) for a
// connection.
type change struct {
	key string // the index; its versions are key + ":v"
	op  string
	exp int64 // the connection's expiry, Unix ms (add, touch)
}

// apply makes the changes for connection id, stamped seq, each in one
// script on the index's slot, pipelined. A script the server does not have
// yet (NOSCRIPT: EVALSHA cannot fall back to EVAL in a pipeline) is sent
// again with its source.
func (s *Store) apply(ctx context.Context, id string, seq int64, changes []change) error {
	if len(changes) == 0 {
		return nil
	}
	now := strconv.FormatInt(s.now().UnixMilli(), 10)
	args := func(c change) []any { return []any{id, seq, c.op, c.exp, ms(s.ttl), now} }
	keys := func(c change) []string { return []string{c.key, c.key + ":v"} }
	cmds, _ := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, c := range changes {
			indexScript.EvalSha(ctx, p, keys(c), args(c)...)
		}
		return nil
	})
	for i, cmd := range cmds {
		err := cmd.Err()
		if redis.HasErrorPrefix(err, "NOSCRIPT") {
			err = indexScript.Run(ctx, s.rdb, keys(changes[i]), args(changes[i])...).Err()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

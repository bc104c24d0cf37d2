package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/hub"
)

// Options configures a Store. A nil *Options means the zero value.
type Options struct {
	// Prefix starts every key; it must not contain '{' or '}'.
	// "" means "scfws".
	Prefix string
	// TTL is how long an untouched connection lives; 0 means hub.DefaultTTL.
	TTL time.Duration
}

// Store is a [hub.Store] on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
	now    func() time.Time
}

var _ hub.Store = (*Store)(nil)

// New returns a Store on rdb (a *redis.Client, *redis.ClusterClient or
// any redis.UniversalClient). It does not contact Redis.
func New(rdb redis.UniversalClient, opts *Options) (*Store, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Prefix == "" {
		o.Prefix = "scfws"
	}
	if strings.ContainsAny(o.Prefix, "{}") {
		return nil, fmt.Errorf("redisstore: prefix %q must not contain '{' or '}'", o.Prefix)
	}
	if o.TTL <= 0 {
		o.TTL = hub.DefaultTTL
	}
	return &Store{rdb: rdb, prefix: o.Prefix, ttl: o.TTL, now: time.Now}, nil
}

var escaper = strings.NewReplacer("%", "%25", "{", "%7B", "}", "%7D")

func (s *Store) connKey(id string) string  { return s.prefix + ":conn:{" + escaper.Replace(id) + "}" }
func (s *Store) roomsKey(id string) string { return s.connKey(id) + ":rooms" }
func (s *Store) roomKey(r string) string   { return s.prefix + ":room:{" + escaper.Replace(r) + "}" }
func (s *Store) userKey(u string) string   { return s.prefix + ":user:{" + escaper.Replace(u) + "}" }

func ms(d time.Duration) int64 { return d.Milliseconds() }

// connKeys are the keys of a connection step: the connection's hash, its
// rooms and its sequence number, all in the connection's slot.
func (s *Store) connKeys(id string) []string {
	c := s.connKey(id)
	return []string{c, c + ":rooms", c + ":seq"}
}

// seqLife is how long a connection's sequence number outlives its last
// change: longer than any of the versions it stamped can matter.
func (s *Store) seqLife() int64 { return ms(s.ttl + 10*time.Minute) }

// Add implements [hub.Store].
func (s *Store) Add(ctx context.Context, c hub.Conn) error {
	if c.ID == "" {
		return scfws.ErrEmptyConnectionID
	}
	meta, err := json.Marshal(c.Meta)
	if err != nil {
		return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
	}
	res, err := addScript.Run(ctx, s.rdb, s.connKeys(c.ID), s.seqLife(), ms(s.ttl),
		"id", c.ID, "user", c.UserID, "proto", c.Subprotocol, "ip", c.SourceIP,
		"at", c.ConnectedAt.UTC().Format(time.RFC3339Nano), "active", s.now().UTC().Format(time.RFC3339Nano),
		"meta", meta).Slice()
	if err != nil {
		return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
	}
	seq, oldUser, oldRooms := stepResult(res)
	var changes []change
	for _, r := range oldRooms {
		changes = append(changes, change{s.roomKey(r), opRemove, 0})
	}
	if oldUser != "" && oldUser != c.UserID {
		changes = append(changes, change{s.userKey(oldUser), opRemove, 0})
	}
	if c.UserID != "" {
		changes = append(changes, change{s.userKey(c.UserID), opAdd, s.now().Add(s.ttl).UnixMilli()})
	}
	if err := s.apply(ctx, c.ID, seq, changes); err != nil {
		return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
	}
	return nil
}

// stepResult reads a connection step's {seq, user, rooms} reply.
func stepResult(res []any) (seq int64, user string, rooms []string) {
	if len(res) > 0 {
		seq, _ = res[0].(int64)
	}
	if len(res) > 1 {
		user, _ = res[1].(string)
	}
	if len(res) > 2 {
		list, _ := res[2].([]any)
		for _, r := range list {
			if s, ok := r.(string); ok {
				rooms = append(rooms, s)
			}
		}
	}
	return seq, user, rooms
}

// Remove implements [hub.Store].
func (s *Store) Remove(ctx context.Context, id string) error {
	res, err := removeScript.Run(ctx, s.rdb, s.connKeys(id), s.seqLife()).Slice()
	if errors.Is(err, redis.Nil) {
		return hub.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: remove %q: %w", id, err)
	}
	seq, user, rooms := stepResult(res)
	changes := make([]change, 0, len(rooms)+1)
	for _, r := range rooms {
		changes = append(changes, change{s.roomKey(r), opRemove, 0})
	}
	if user != "" {
		changes = append(changes, change{s.userKey(user), opRemove, 0})
	}
	if err := s.apply(ctx, id, seq, changes); err != nil {
		return fmt.Errorf("redisstore: remove %q: %w", id, err)
	}
	return nil
}

// Get implements [hub.Store].
func (s *Store) Get(ctx context.Context, id string) (hub.Conn, error) {
	var hash *redis.MapStringStringCmd
	var rooms *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // one slot, one round trip
		hash = p.HGetAll(ctx, s.connKey(id))
		rooms = p.SMembers(ctx, s.roomsKey(id))
		return nil
	})
	if err != nil {
		return hub.Conn{}, fmt.Errorf("redisstore: get %q: %w", id, err)
	}
	h := hash.Val()
	if len(h) == 0 {
		return hub.Conn{}, hub.ErrNotFound
	}
	c := hub.Conn{ID: id, UserID: h["user"], Subprotocol: h["proto"], SourceIP: h["ip"], Rooms: rooms.Val()}
	if at, err := time.Parse(time.RFC3339Nano, h["at"]); err == nil {
		c.ConnectedAt = at
	}
	if at, err := time.Parse(time.RFC3339Nano, h["active"]); err == nil {
		c.LastActive = at
	}
	if m := h["meta"]; m != "" && m != "null" {
		if err := json.Unmarshal([]byte(m), &c.Meta); err != nil {
			return hub.Conn{}, fmt.Errorf("redisstore: get %q: meta: %w", id, err)
		}
	}
	return c, nil
}

// Touch implements [hub.Store]: it restarts the TTL of the connection's
// keys and moves its expiry in its rooms and user set.
func (s *Store) Touch(ctx context.Context, id string) error {
	res, err := touchScript.Run(ctx, s.rdb, s.connKeys(id), ms(s.ttl), s.seqLife(),
		s.now().UTC().Format(time.RFC3339Nano)).Slice()
	if errors.Is(err, redis.Nil) {
		return hub.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: touch %q: %w", id, err)
	}
	_, user, rooms := stepResult(append([]any{int64(0)}, res...))
	exp := s.now().Add(s.ttl).UnixMilli()
	changes := make([]change, 0, len(rooms)+1)
	for _, r := range rooms {
		changes = append(changes, change{s.roomKey(r), opTouch, exp})
	}
	if user != "" {
		changes = append(changes, change{s.userKey(user), opTouch, exp})
	}
	if err := s.apply(ctx, id, 0, changes); err != nil {
		return fmt.Errorf("redisstore: touch %q: %w", id, err)
	}
	return nil
}

// Join implements [hub.Store].
func (s *Store) Join(ctx context.Context, id, room string) error {
	if room == "" {
		return hub.ErrEmptyRoom
	}
	res, err := joinScript.Run(ctx, s.rdb, s.connKeys(id), s.seqLife(), room).Int64Slice()
	if errors.Is(err, redis.Nil) {
		return hub.ErrNotFound
	}
	if err != nil || len(res) != 2 {
		return fmt.Errorf("redisstore: join %q to %q: %w", id, room, err)
	}
	exp := s.now().Add(time.Duration(res[1]) * time.Millisecond).UnixMilli()
	if err := s.apply(ctx, id, res[0], []change{{s.roomKey(room), opAdd, exp}}); err != nil {
		return fmt.Errorf("redisstore: join %q to %q: %w", id, room, err)
	}
	return nil
}

// Leave implements [hub.Store].
func (s *Store) Leave(ctx context.Context, id, room string) error {
	seq, err := leaveScript.Run(ctx, s.rdb, s.connKeys(id), s.seqLife(), room).Int64()
	if errors.Is(err, redis.Nil) {
		return hub.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: leave %q from %q: %w", id, room, err)
	}
	if err := s.apply(ctx, id, seq, []change{{s.roomKey(room), opRemove, 0}}); err != nil {
		return fmt.Errorf("redisstore: leave %q from %q: %w", id, room, err)
	}
	return nil
}

// Members implements [hub.Store]; it also prunes expired members. A member
// is listed only when its connection says it is in the room: an index
// entry left by a step that failed (Redis down between a connection's step
// and its index's) is never returned, and expires.
func (s *Store) Members(ctx context.Context, room string) ([]string, error) {
	ids, err := s.live(ctx, s.roomKey(room))
	if err == nil {
		ids, err = s.confirmed(ctx, ids, func(p redis.Pipeliner, id string) redis.Cmder {
			return p.SIsMember(ctx, s.roomsKey(id), room)
		}, func(c redis.Cmder) bool { return c.(*redis.BoolCmd).Val() })
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: members of %q: %w", room, err)
	}
	return ids, nil
}

// UserConns implements [hub.Store]; it also prunes expired connections,
// and lists only those whose connection names the user (see Members).
func (s *Store) UserConns(ctx context.Context, userID string) ([]string, error) {
	ids, err := s.live(ctx, s.userKey(userID))
	if err == nil {
		ids, err = s.confirmed(ctx, ids, func(p redis.Pipeliner, id string) redis.Cmder {
			return p.HGet(ctx, s.connKey(id), "user")
		}, func(c redis.Cmder) bool { return c.(*redis.StringCmd).Val() == userID })
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: connections of user %q: %w", userID, err)
	}
	return ids, nil
}

// confirmed keeps the ids whose connection confirms the index (ok of the
// answer to check), asking all in one pipeline.
func (s *Store) confirmed(ctx context.Context, ids []string, check func(redis.Pipeliner, string) redis.Cmder,
	ok func(redis.Cmder) bool) ([]string, error) {
	if len(ids) == 0 {
		return ids, nil
	}
	cmds := make([]redis.Cmder, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = check(p, id)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := ids[:0]
	for i, id := range ids {
		if cmds[i].Err() == nil && ok(cmds[i]) {
			out = append(out, id)
		}
	}
	return out, nil
}

// live returns the members of a sorted set whose expiry is in the future,
// pruning the others, in one MULTI/EXEC.
func (s *Store) live(ctx context.Context, key string) ([]string, error) {
	now := strconv.FormatInt(s.now().UnixMilli(), 10)
	var rng *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRemRangeByScore(ctx, key, "-inf", now)
		rng = p.ZRangeByScore(ctx, key, &redis.ZRangeBy{Min: "(" + now, Max: "+inf"})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rng.Val(), nil
}

// Rooms implements [hub.Store]: Get's Rooms.
func (s *Store) Rooms(ctx context.Context, id string) ([]string, error) {
	c, err := s.Get(ctx, id)
	return c.Rooms, err
}

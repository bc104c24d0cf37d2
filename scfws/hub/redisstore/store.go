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

// Add implements [hub.Store].
func (s *Store) Add(ctx context.Context, c hub.Conn) error {
	if c.ID == "" {
		return scfws.ErrEmptyConnectionID
	}
	meta, err := json.Marshal(c.Meta)
	if err != nil {
		return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
	}
	args := []any{ms(s.ttl),
		"id", c.ID, "user", c.UserID, "proto", c.Subprotocol, "ip", c.SourceIP,
		"at", c.ConnectedAt.UTC().Format(time.RFC3339Nano), "meta", meta}
	res, err := addScript.Run(ctx, s.rdb, []string{s.connKey(c.ID), s.roomsKey(c.ID)}, args...).Slice()
	if err != nil {
		return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
	}
	oldUser, oldRooms := userAndRooms(res)
	if err := s.unlink(ctx, c.ID, oldUser, oldRooms); err != nil {
		return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
	}
	if c.UserID != "" {
		exp := s.now().Add(s.ttl).UnixMilli()
		if err := zaddScript.Run(ctx, s.rdb, []string{s.userKey(c.UserID)}, exp, c.ID, ms(s.ttl), "").Err(); err != nil {
			return fmt.Errorf("redisstore: add %q: %w", c.ID, err)
		}
	}
	return nil
}

// userAndRooms reads a script's {user, rooms} reply.
func userAndRooms(res []any) (string, []string) {
	var user string
	var rooms []string
	if len(res) > 0 {
		user, _ = res[0].(string)
	}
	if len(res) > 1 {
		list, _ := res[1].([]any)
		for _, r := range list {
			if s, ok := r.(string); ok {
				rooms = append(rooms, s)
			}
		}
	}
	return user, rooms
}

// unlink removes id from the user and room sets it was in.
func (s *Store) unlink(ctx context.Context, id, user string, rooms []string) error {
	if user == "" && len(rooms) == 0 {
		return nil
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if user != "" {
			p.ZRem(ctx, s.userKey(user), id)
		}
		for _, r := range rooms {
			p.ZRem(ctx, s.roomKey(r), id)
		}
		return nil
	})
	return err
}

// Remove implements [hub.Store].
func (s *Store) Remove(ctx context.Context, id string) error {
	res, err := removeScript.Run(ctx, s.rdb, []string{s.connKey(id), s.roomsKey(id)}).Slice()
	if errors.Is(err, redis.Nil) {
		return hub.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: remove %q: %w", id, err)
	}
	user, rooms := userAndRooms(res)
	if err := s.unlink(ctx, id, user, rooms); err != nil {
		return fmt.Errorf("redisstore: remove %q: %w", id, err)
	}
	return nil
}

// Get implements [hub.Store].
func (s *Store) Get(ctx context.Context, id string) (hub.Conn, error) {
	h, err := s.rdb.HGetAll(ctx, s.connKey(id)).Result()
	if err != nil {
		return hub.Conn{}, fmt.Errorf("redisstore: get %q: %w", id, err)
	}
	if len(h) == 0 {
		return hub.Conn{}, hub.ErrNotFound
	}
	c := hub.Conn{ID: id, UserID: h["user"], Subprotocol: h["proto"], SourceIP: h["ip"]}
	if at, err := time.Parse(time.RFC3339Nano, h["at"]); err == nil {
		c.ConnectedAt = at
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
	res, err := touchScript.Run(ctx, s.rdb, []string{s.connKey(id), s.roomsKey(id)}, ms(s.ttl)).Slice()
	if errors.Is(err, redis.Nil) {
		return hub.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstore: touch %q: %w", id, err)
	}
	user, rooms := userAndRooms(res)
	exp := s.now().Add(s.ttl).UnixMilli()
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if user != "" {
			p.Eval(ctx, zaddSrc, []string{s.userKey(user)}, exp, id, ms(s.ttl), "xx")
		}
		for _, r := range rooms {
			p.Eval(ctx, zaddSrc, []string{s.roomKey(r)}, exp, id, ms(s.ttl), "xx")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstore: touch %q: %w", id, err)
	}
	return nil
}

// Join implements [hub.Store].
func (s *Store) Join(ctx context.Context, id, room string) error {
	if room == "" {
		return hub.ErrEmptyRoom
	}
	keys := []string{s.connKey(id), s.roomsKey(id)}
	ttl, err := joinScript.Run(ctx, s.rdb, keys, room).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: join %q to %q: %w", id, room, err)
	}
	if ttl < 0 {
		return hub.ErrNotFound
	}
	exp := s.now().Add(time.Duration(ttl) * time.Millisecond).UnixMilli()
	if err := zaddScript.Run(ctx, s.rdb, []string{s.roomKey(room)}, exp, id, ttl, "").Err(); err != nil {
		return fmt.Errorf("redisstore: join %q to %q: %w", id, room, err)
	}
	// A Remove that ran between the two steps did not see this room: undo.
	n, err := s.rdb.Exists(ctx, keys[0]).Result()
	if err != nil {
		return fmt.Errorf("redisstore: join %q to %q: %w", id, room, err)
	}
	if n == 0 {
		if err := s.rdb.ZRem(ctx, s.roomKey(room), id).Err(); err != nil {
			return fmt.Errorf("redisstore: join %q to %q: %w", id, room, err)
		}
		return hub.ErrNotFound
	}
	return nil
}

// Leave implements [hub.Store].
func (s *Store) Leave(ctx context.Context, id, room string) error {
	ok, err := leaveScript.Run(ctx, s.rdb, []string{s.connKey(id), s.roomsKey(id)}, room).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: leave %q from %q: %w", id, room, err)
	}
	if err := s.rdb.ZRem(ctx, s.roomKey(room), id).Err(); err != nil {
		return fmt.Errorf("redisstore: leave %q from %q: %w", id, room, err)
	}
	if ok == 0 {
		return hub.ErrNotFound
	}
	return nil
}

// Members implements [hub.Store]; it also prunes expired members.
func (s *Store) Members(ctx context.Context, room string) ([]string, error) {
	ids, err := s.live(ctx, s.roomKey(room))
	if err != nil {
		return nil, fmt.Errorf("redisstore: members of %q: %w", room, err)
	}
	return ids, nil
}

// UserConns implements [hub.Store]; it also prunes expired connections.
func (s *Store) UserConns(ctx context.Context, userID string) ([]string, error) {
	ids, err := s.live(ctx, s.userKey(userID))
	if err != nil {
		return nil, fmt.Errorf("redisstore: connections of user %q: %w", userID, err)
	}
	return ids, nil
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

// Rooms implements [hub.Store].
func (s *Store) Rooms(ctx context.Context, id string) ([]string, error) {
	var exists *redis.IntCmd
	var rooms *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		exists = p.Exists(ctx, s.connKey(id))
		rooms = p.SMembers(ctx, s.roomsKey(id))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: rooms of %q: %w", id, err)
	}
	if exists.Val() == 0 {
		return nil, hub.ErrNotFound
	}
	return rooms.Val(), nil
}

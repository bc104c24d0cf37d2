package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/hub/hubtest"
	"github.com/scfws/scfws-go/scfws/hub/redisstore"
)

// redisAddr is the server every test in this package uses: a real
// redis-server when the binary is on PATH, else miniredis (see redistest).
var redisAddr string

func TestMain(m *testing.M) {
	srv, err := redistest.Start(os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstore tests:", err)
		os.Exit(1)
	}
	redisAddr = srv.Addr
	code := m.Run()
	srv.Close()
	os.Exit(code)
}

var prefixes atomic.Int64

// newStore returns a store under a prefix of its own on the shared server.
func newStore(t testing.TB, ttl time.Duration) (*redisstore.Store, *redis.Client) {
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	t.Cleanup(func() { _ = rdb.Close() })
	s, err := redisstore.New(rdb, &redisstore.Options{Prefix: fmt.Sprintf("t%d", prefixes.Add(1)), TTL: ttl})
	require.NoError(t, err)
	return s, rdb
}

func TestConformance(t *testing.T) {
	hubtest.TestStore(t, func(t *testing.T, ttl time.Duration) hub.Store {
		s, _ := newStore(t, ttl)
		return s
	})
}

func TestKeyLayout(t *testing.T) {
	s, rdb := newStore(t, time.Hour)
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "k+/9{x}%=", UserID: "u{1}"}))
	require.NoError(t, s.Join(ctx, "k+/9{x}%=", "lobby"))
	prefix := fmt.Sprintf("t%d:", prefixes.Load())
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	require.NoError(t, err)
	for i, k := range keys {
		ttl, err := rdb.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, time.Duration(0), "%s has a TTL", k)
		keys[i] = strings.TrimPrefix(k, prefix)
	}
	assert.ElementsMatch(t, []string{
		"conn:{k+/9%7Bx%7D%25=}", "conn:{k+/9%7Bx%7D%25=}:rooms", "conn:{k+/9%7Bx%7D%25=}:seq",
		"room:{lobby}", "room:{lobby}:v", "user:{u%7B1%7D}", "user:{u%7B1%7D}:v",
	}, keys)
	// every key has exactly one hash tag, and a connection's keys share it
	tags := map[string]int{}
	for _, k := range keys {
		require.Equal(t, 1, strings.Count(k, "{"), k)
		require.Equal(t, 1, strings.Count(k, "}"), k)
		tags[k[strings.Index(k, "{"):strings.Index(k, "}")+1]]++
	}
	assert.Equal(t, map[string]int{"{k+/9%7Bx%7D%25=}": 3, "{lobby}": 2, "{u%7B1%7D}": 2}, tags)
}

func TestNewRejectsBracesInPrefix(t *testing.T) {
	_, err := redisstore.New(redis.NewClient(&redis.Options{Addr: redisAddr}), &redisstore.Options{Prefix: "app{1}"})
	require.Error(t, err)
}

func TestRedisDown(t *testing.T) {
	redis.SetLogger(quiet{})
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	defer rdb.Close()
	s, err := redisstore.New(rdb, nil)
	require.NoError(t, err)
	err = s.Add(context.Background(), hub.Conn{ID: "a"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, hub.ErrNotFound)
	_, err = s.Members(context.Background(), "r")
	require.Error(t, err)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// failIndex fails the index step (the pipeline after a connection's own
// step) while armed: as if Redis went away between the two.
type failIndex struct{ armed atomic.Bool }

func (f *failIndex) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *failIndex) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.fails(cmd) {
			return errors.New("injected: connection lost")
		}
		return next(ctx, cmd)
	}
}

func (f *failIndex) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if slices.ContainsFunc(cmds, f.fails) {
			for _, c := range cmds {
				c.SetErr(errors.New("injected: connection lost"))
			}
			return errors.New("injected: connection lost")
		}
		return next(ctx, cmds)
	}
}

// fails: armed, and cmd is the index script (EVAL/EVALSHA sha n key…) on a
// room's or user's keys.
func (f *failIndex) fails(cmd redis.Cmder) bool {
	args := cmd.Args()
	if !f.armed.Load() || !strings.HasPrefix(strings.ToLower(cmd.Name()), "eval") || len(args) < 4 {
		return false
	}
	key := fmt.Sprint(args[3])
	return strings.Contains(key, ":room:{") || strings.Contains(key, ":user:{")
}

// TestFailedStepConverges: when the index step of Remove or Add fails, the
// call says so, a retry converges, and reads never list a connection that
// is gone, or under a user it no longer has.
func TestFailedStepConverges(t *testing.T) {
	s, rdb := newStore(t, time.Hour)
	hook := &failIndex{}
	rdb.AddHook(hook)
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "c1", UserID: "ann"}))
	require.NoError(t, s.Join(ctx, "c1", "lobby"))

	hook.armed.Store(true)
	require.Error(t, s.Remove(ctx, "c1"), "the index step failed")
	hook.armed.Store(false)
	assert.Empty(t, must(s.Members(ctx, "lobby")), "the gone connection is not listed")
	assert.Empty(t, must(s.UserConns(ctx, "ann")))
	err := s.Remove(ctx, "c1")
	require.ErrorIs(t, err, hub.ErrNotFound, "a retry finds it gone")
	assert.Empty(t, must(s.Members(ctx, "lobby")))

	require.NoError(t, s.Add(ctx, hub.Conn{ID: "c2", UserID: "ann"}))
	hook.armed.Store(true)
	require.Error(t, s.Add(ctx, hub.Conn{ID: "c2", UserID: "bob"}), "moved to bob, the index step failed")
	hook.armed.Store(false)
	assert.Empty(t, must(s.UserConns(ctx, "ann")), "not listed under the user it no longer has")
	require.NoError(t, s.Add(ctx, hub.Conn{ID: "c2", UserID: "bob"}), "the retry")
	assert.Equal(t, []string{"c2"}, must(s.UserConns(ctx, "bob")))
	assert.Empty(t, must(s.UserConns(ctx, "ann")))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestConformanceCluster runs the conformance suite on a real three-shard
// Redis Cluster (redis-server --cluster-enabled yes, redis-cli --cluster
// create): a connection's, a room's and a user's keys sit on different
// shards.
func TestConformanceCluster(t *testing.T) {
	cl, err := redistest.StartCluster(os.Stderr)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis Cluster on CI: %v", err)
		}
		t.Skipf("no Redis Cluster: %v", err)
	}
	t.Cleanup(cl.Close)
	hubtest.TestStore(t, func(t *testing.T, ttl time.Duration) hub.Store {
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs})
		t.Cleanup(func() { _ = rdb.Close() })
		s, err := redisstore.New(rdb, &redisstore.Options{Prefix: fmt.Sprintf("c%d", prefixes.Add(1)), TTL: ttl})
		require.NoError(t, err)
		return s
	})
}

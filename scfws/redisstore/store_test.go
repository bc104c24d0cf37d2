package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/redisstore"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// redisAddr is the server every test in this package uses: a real
// redis-server started by TestMain when the binary is on PATH, else miniredis.
var redisAddr string

func TestMain(m *testing.M) {
	stop, err := startRedis()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstore tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	stop()
	os.Exit(code)
}

func startRedis() (func(), error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		mr, err := miniredis.Run()
		if err != nil {
			return nil, err
		}
		fmt.Fprintln(os.Stderr, "redisstore tests: redis-server is not on PATH; using miniredis instead (install redis-server to test against the real server)")
		redisAddr = mr.Addr()
		// miniredis expires keys only when told that time passed
		done := make(chan struct{})
		go func() {
			last := time.Now()
			for {
				select {
				case <-done:
					return
				case <-time.After(5 * time.Millisecond):
					now := time.Now()
					mr.FastForward(now.Sub(last))
					last = now
				}
			}
		}()
		return func() { close(done); mr.Close() }, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "scfws-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) }
	redisAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer rdb.Close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		if err := rdb.Ping(context.Background()).Err(); err == nil {
			fmt.Fprintf(os.Stderr, "redisstore tests: redis-server on %s\n", redisAddr)
			return stop, nil
		} else if time.Since(start) > 10*time.Second {
			stop()
			return nil, fmt.Errorf("redis-server did not answer: %w", err)
		}
	}
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
	scfwstest.TestStore(t, func(t *testing.T, ttl time.Duration) scfws.Store {
		s, _ := newStore(t, ttl)
		return s
	})
}

func TestKeyLayout(t *testing.T) {
	s, rdb := newStore(t, time.Hour)
	ctx := context.Background()
	require.NoError(t, s.Add(ctx, scfws.Conn{ID: "k+/9{x}%=", UserID: "u{1}"}))
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
		"conn:{k+/9%7Bx%7D%25=}", "conn:{k+/9%7Bx%7D%25=}:rooms", "room:{lobby}", "user:{u%7B1%7D}",
	}, keys)
	// every key has exactly one hash tag, and a connection's keys share it
	tags := map[string]int{}
	for _, k := range keys {
		require.Equal(t, 1, strings.Count(k, "{"), k)
		require.Equal(t, 1, strings.Count(k, "}"), k)
		tags[k[strings.Index(k, "{"):strings.Index(k, "}")+1]]++
	}
	assert.Equal(t, map[string]int{"{k+/9%7Bx%7D%25=}": 2, "{lobby}": 1, "{u%7B1%7D}": 1}, tags)
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
	err = s.Add(context.Background(), scfws.Conn{ID: "a"})
	require.Error(t, err)
	assert.NotErrorIs(t, err, scfws.ErrNotFound)
	_, err = s.Members(context.Background(), "r")
	require.Error(t, err)
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

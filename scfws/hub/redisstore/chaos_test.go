//go:build chaos

package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/hub"
	"github.com/scfws/scfws-go/scfws/hub/redisstore"
)

// model is what a connection should be once every call on it succeeded.
type model struct {
	exists bool
	user   string
	rooms  map[string]bool
}

// TestChaos kills redis-server (kill -9, appendfsync always) 7 times and
// restarts it while 3 clients × 6 goroutines add, join, leave, touch and
// remove connections, retrying each call until it succeeds (or answers
// ErrNotFound where that means done); then every connection, room and user
// must agree with what the calls said. Run by scripts/redis-chaos.
func TestChaos(t *testing.T) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("needs redis-server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir := t.TempDir()
	var srv *exec.Cmd
	startRedis := func() {
		srv = exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
			"--appendonly", "yes", "--appendfsync", "always", "--save", "")
		require.NoError(t, srv.Start())
	}
	startRedis()
	defer func() { _ = srv.Process.Kill(); _ = srv.Wait() }()

	addr := "127.0.0.1:" + strconv.Itoa(port)
	ctx := context.Background()
	var stores []*redisstore.Store
	for range 3 {
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
		defer rdb.Close()
		s, err := redisstore.New(rdb, &redisstore.Options{Prefix: "chaos", TTL: time.Hour})
		require.NoError(t, err)
		stores = append(stores, s)
	}
	retry := func(f func() error, done ...error) {
		for {
			err := f()
			if err == nil || slices.ContainsFunc(done, func(d error) bool { return errors.Is(err, d) }) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	stop := make(chan struct{})
	var mu sync.Mutex
	models := map[string]*model{}
	var wg sync.WaitGroup
	for c, s := range stores {
		for g := range 6 {
			wg.Go(func() {
				ids := make([]string, 4)
				for i := range ids {
					ids[i] = fmt.Sprintf("c%d-g%d-%d", c, g, i)
				}
				local := map[string]*model{}
				for _, id := range ids {
					local[id] = &model{rooms: map[string]bool{}}
				}
				for ops := 0; ; ops++ {
					select {
					case <-stop:
						mu.Lock()
						for id, m := range local {
							models[id] = m
						}
						mu.Unlock()
						return
					default:
					}
					id := ids[rand.N(len(ids))]
					m := local[id]
					room, user := fmt.Sprint("room", rand.N(3)), fmt.Sprint("user", rand.N(3))
					switch op := rand.N(10); {
					case op < 2 || !m.exists:
						retry(func() error { return s.Add(ctx, hub.Conn{ID: id, UserID: user}) })
						*m = model{exists: true, user: user, rooms: map[string]bool{}}
					case op < 5:
						retry(func() error { return s.Join(ctx, id, room) })
						m.rooms[room] = true
					case op < 7:
						retry(func() error { return s.Leave(ctx, id, room) })
						delete(m.rooms, room)
					case op < 8:
						retry(func() error { return s.Touch(ctx, id) })
					default:
						retry(func() error { return s.Remove(ctx, id) }, hub.ErrNotFound)
						*m = model{rooms: map[string]bool{}}
					}
				}
			})
		}
	}
	for range 7 {
		time.Sleep(300 * time.Millisecond)
		_ = srv.Process.Kill() // SIGKILL
		_ = srv.Wait()
		time.Sleep(200 * time.Millisecond)
		startRedis()
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()

	s := stores[0]
	bad := 0
	report := func(format string, args ...any) { bad++; t.Logf(format, args...) }
	members, users := map[string][]string{}, map[string][]string{}
	for id, m := range models {
		c, err := s.Get(ctx, id)
		switch {
		case !m.exists && !errors.Is(err, hub.ErrNotFound):
			report("%s: should be gone, Get says %v %+v", id, err, c)
			continue
		case !m.exists:
			continue
		case err != nil:
			report("%s: should exist, Get says %v", id, err)
			continue
		}
		if c.UserID != m.user {
			report("%s: user %q, should be %q", id, c.UserID, m.user)
		}
		var want []string
		for r := range m.rooms {
			want = append(want, r)
			members[r] = append(members[r], id)
		}
		slices.Sort(want)
		got := slices.Sorted(slices.Values(c.Rooms))
		if !slices.Equal(got, want) {
			report("%s: rooms %v, should be %v", id, got, want)
		}
		users[m.user] = append(users[m.user], id)
	}
	for i := range 3 {
		r, u := fmt.Sprint("room", i), fmt.Sprint("user", i)
		got, err := s.Members(ctx, r)
		require.NoError(t, err)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(members[r]))) {
			report("room %s: members %v, should be %v", r, got, members[r])
		}
		got, err = s.UserConns(ctx, u)
		require.NoError(t, err)
		if !slices.Equal(slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(users[u]))) {
			report("user %s: connections %v, should be %v", u, got, users[u])
		}
	}
	fmt.Fprintf(os.Stdout, "chaos: redis-server killed and restarted 7 times under 3 clients × 6 goroutines; %d connections checked; %d inconsistencies\n", len(models), bad)
	if bad > 0 {
		t.Fail()
	}
}

package host_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
	"github.com/scfws/scfws-go/scfws/hub"
)

func startRedis(t *testing.T) (*redistest.Server, *redis.Client) {
	t.Helper()
	r, err := redistest.Start(os.Stderr)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return r, rdb
}

// ask sends a command and returns the answer.
func ask(t *testing.T, c *websocket.Conn, cmd string) string {
	t.Helper()
	write(t, c, cmd)
	return read(t, c)
}

// testLease is the lease of the instances whose death a test waits for.
const testLease = 2 * time.Second

// TestAcrossInstances: two host processes on one redis-server; pushes
// between their clients arrive once and in order, both ways; once an
// instance is killed (-9), a push to its connection is answered success
// (its lease still runs) or unavailable (it is not yet known gone), and
// refused within two leases.
func TestAcrossInstances(t *testing.T) {
	r, rdb := startRedis(t)
	a, b := startInstance(t, r.Addr), startInstance(t, r.Addr, "SCFWS_TEST_LEASE="+testLease.String())
	ca, cb := dial(t, a.url), dial(t, b.url)
	idA, idB := ask(t, ca, "me"), ask(t, cb, "me")
	require.NotEqual(t, idA[:8], idB[:8], "two instances")

	const n = 500
	for _, dir := range []struct {
		from, to *websocket.Conn
		toID     string
	}{{ca, cb, idB}, {cb, ca, idA}} {
		write(t, dir.from, fmt.Sprintf("seq %s %d", dir.toID, n))
		for i := range n {
			require.Equal(t, fmt.Sprint(i), read(t, dir.to), "in order, once")
		}
		assert.Equal(t, fmt.Sprintf("sent %d", n), read(t, dir.from))
	}
	assert.Equal(t, "ok", ask(t, ca, "to "+idB+" hi"))
	assert.Equal(t, "hi", read(t, cb))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, _, err := cb.Read(ctx)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "nothing arrives twice")
	_ = cb.CloseNow()

	assert.Eventually(t, func() bool { return rdb.Get(context.Background(), "cleanups:"+idB).Val() == "1" },
		5*time.Second, 10*time.Millisecond, "cleanup ran on B")
	assert.Equal(t, "ok", ask(t, ca, "to "+idB+" late"), "B is alive: its closed connection's push is dropped there")

	cb2 := dial(t, b.url)
	idB2 := ask(t, cb2, "me")
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGKILL))
	_ = b.cmd.Wait()
	killed := time.Now()
	for {
		got := ask(t, ca, "to "+idB2+" anyone?")
		if got == "refused" {
			break
		}
		require.Contains(t, []string{"ok", "unavailable"}, got)
		require.Less(t, time.Since(killed), 2*testLease+3*time.Second, "refused within two leases")
		time.Sleep(50 * time.Millisecond)
	}
	assert.GreaterOrEqual(t, time.Since(killed), testLease, "not refused while its lease may still run")
	t.Logf("refused %v after the kill (lease %v)", time.Since(killed).Round(time.Millisecond), testLease)
}

// TestSIGTERM: an instance told to stop closes its clients with 1001, runs
// each cleanup once and exits 0.
func TestSIGTERM(t *testing.T) {
	r, rdb := startRedis(t)
	b := startInstance(t, r.Addr)
	var ids []string
	var conns []*websocket.Conn
	for range 5 {
		c := dial(t, b.url)
		conns = append(conns, c)
		ids = append(ids, ask(t, c, "me"))
	}
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGTERM))
	for _, c := range conns {
		assert.Equal(t, websocket.StatusGoingAway, closeCode(t, c))
	}
	done := make(chan error, 1)
	go func() { done <- b.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exits 0")
	case <-time.After(15 * time.Second):
		t.Fatal("the instance did not exit")
	}
	for _, id := range ids {
		assert.Equal(t, "1", rdb.Get(context.Background(), "cleanups:"+id).Val(), id)
	}
}

// TestHubPrunesGoneInstance: a hub on one instance sends to a room whose
// members are held by an instance that was killed; the pushes are not
// refused while its lease may run, then refused, and the hub removes
// them from the store.
func TestHubPrunesGoneInstance(t *testing.T) {
	r, rdb := startRedis(t)
	b := startInstance(t, r.Addr, "SCFWS_TEST_LEASE="+testLease.String())
	cb := dial(t, b.url)
	idB := ask(t, cb, "me")

	srv, err := host.New(&host.Options{Addr: "127.0.0.1:0", Redis: rdb})
	require.NoError(t, err)
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, scfws.Functions{}) }()
	defer func() { cancel(); <-served }()

	store := hub.NewMemoryStore()
	h := hub.New(store, push, nil)
	bg := context.Background()
	require.NoError(t, store.Add(bg, hub.Conn{ID: idB}))
	require.NoError(t, store.Join(bg, idB, "room"))
	assert.Eventually(t, func() bool { return h.SendRoom(bg, "room", scfws.Text("via redis")) == nil },
		5*time.Second, 10*time.Millisecond, "the hub's instance is on the bus")
	assert.Equal(t, "via redis", read(t, cb))

	require.NoError(t, b.cmd.Process.Signal(syscall.SIGKILL))
	_ = b.cmd.Wait()
	killed := time.Now()
	for err = h.SendRoom(bg, "room", scfws.Text("anyone?")); !errors.Is(err, scfws.ErrPushRefused); err = h.SendRoom(bg, "room", scfws.Text("anyone?")) {
		if err != nil {
			require.ErrorIs(t, err, scfws.ErrPushUnavailable)
		}
		_, gerr := store.Get(bg, idB)
		require.NoError(t, gerr, "not pruned before it is known gone")
		require.Less(t, time.Since(killed), 2*testLease+3*time.Second, "refused within two leases")
		time.Sleep(50 * time.Millisecond)
	}
	var be *scfws.BroadcastError
	require.ErrorAs(t, err, &be)
	require.ErrorIs(t, err, scfws.ErrPushRefused)
	assert.Equal(t, []string{idB}, be.Pruned)
	_, err = store.Get(bg, idB)
	require.ErrorIs(t, err, hub.ErrNotFound)
}

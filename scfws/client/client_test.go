package client_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/client"
	"github.com/scfws/scfws-go/scfws/host"
)

// stream pushes "1" … "n" to id with push, one at a time, while the
// client writes "w1" … "w<n/4>"; cut is called once the first third is
// read. It checks that the client read every push once and in order, that
// every push was answered success, and that the app got every client
// message once.
func stream(t *testing.T, c *client.Conn, push *scfws.PushClient, rdb *redis.Client, n int, cut func()) {
	t.Helper()
	id := c.ID()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	var pushErrs []error
	wg.Add(2)
	go func() {
		defer wg.Done()
		for i := 1; i <= n; i++ {
			if err := push.Send(ctx, id, scfws.Text(strconv.Itoa(i))); err != nil && ctx.Err() == nil {
				pushErrs = append(pushErrs, fmt.Errorf("push %d: %w", i, err))
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	writes := n / 4
	go func() {
		defer wg.Done()
		for i := 1; i <= writes; i++ {
			if err := c.Write(ctx, websocket.MessageText, []byte("w"+strconv.Itoa(i))); err != nil {
				if ctx.Err() == nil {
					t.Errorf("write %d: %v", i, err)
				}
				return
			}
			time.Sleep(8 * time.Millisecond)
		}
	}()
	for i := 1; i <= n; i++ {
		if i == n/3 {
			go cut()
		}
		typ, data, err := c.Read(ctx)
		require.NoError(t, err, "reading push %d", i)
		require.Equal(t, websocket.MessageText, typ)
		require.Equal(t, strconv.Itoa(i), string(data), "every push once, in order")
	}
	wg.Wait()
	require.Empty(t, pushErrs, "no push to the connection was refused or lost")
	for i := 1; i <= writes; i++ {
		key := "got:" + id + ":w" + strconv.Itoa(i)
		require.Eventually(t, func() bool { return rdb.Get(ctx, key).Val() != "" }, 20*time.Second, 10*time.Millisecond,
			"client message w%d handled", i)
		require.Equal(t, "1", rdb.Get(ctx, key).Val(), "client message w%d handled once", i)
	}
	assert.Equal(t, "1", rdb.Get(ctx, "registers:"+id).Val(), "one register")
	assert.Equal(t, "", rdb.Get(ctx, "cleanups:"+id).Val(), "no cleanup")
	assert.Equal(t, id, c.ID(), "the same connection")
}

func dialFront(t *testing.T, u string) *client.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, u, &client.Options{MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond})
	require.NoError(t, err)
	require.True(t, c.Reliable())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestResume: a stream of pushes (from a third instance) and of client
// messages, across each kind of cut, on host instances sharing a
// redis-server behind one front.
func TestResume(t *testing.T) {
	r, rdb := startRedis(t)
	pusher, _ := startHost(t, rdb, testOptions())
	const n = 300

	t.Run("lifetime", func(t *testing.T) {
		o := testOptions()
		o.MaxLifetime = 150 * time.Millisecond // several lifetime closes during the stream
		a, _ := startHost(t, rdb, o)
		f := startFront(t, hostPort(a.srv.URL()))
		c := dialFront(t, frontURL(f))
		stream(t, c, pusher.push, rdb, n, func() {})
		assert.GreaterOrEqual(t, c.Resumes(), 2)
	})

	t.Run("sigterm", func(t *testing.T) {
		a := startProcess(t, r.Addr)
		b, _ := startHost(t, rdb, testOptions())
		f := startFront(t, hostPort(a.url), hostPort(b.srv.URL()))
		c := dialFront(t, frontURL(f))
		require.Equal(t, hostPort(a.url), "127.0.0.1:"+portOf(t, a.url))
		stream(t, c, pusher.push, rdb, n, func() {
			require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
		})
		require.NoError(t, a.cmd.Wait(), "the instance shut down cleanly")
		assert.Equal(t, 1, c.Resumes())
		assert.Equal(t, 1, b.srv.Open(), "resumed on the other instance")
	})

	// the instance that leaves has frames for the connection it parked still
	// unread on its stream (its Redis replies slowed): it reads them into the
	// connection's list before it is marked gone, so none is lost and none
	// overtaken by what comes to the list after
	t.Run("shutdown with frames unread", func(t *testing.T) {
		slow := startFront(t, r.Addr)
		ardb := redis.NewClient(&redis.Options{Addr: slow.Addr})
		t.Cleanup(func() { _ = ardb.Close() })
		o := testOptions()
		o.Redis = ardb
		a, stopA := startHost(t, rdb, o)
		b, _ := startHost(t, rdb, testOptions())
		f := startFront(t, hostPort(a.srv.URL()), hostPort(b.srv.URL()))
		c := dialFront(t, frontURL(f))
		stream(t, c, pusher.push, rdb, n, func() {
			slow.Delay(30 * time.Millisecond)
			f.To(hostPort(b.srv.URL()))
			stopA()
		})
		assert.Equal(t, 1, b.srv.Open())
	})

	t.Run("tcp cut", func(t *testing.T) {
		a, _ := startHost(t, rdb, testOptions())
		f := startFront(t, hostPort(a.srv.URL()))
		c := dialFront(t, frontURL(f))
		stream(t, c, pusher.push, rdb, n, func() { f.Cut(); f.Restore() })
		assert.Equal(t, 1, c.Resumes())
	})

	t.Run("elsewhere", func(t *testing.T) {
		a, _ := startHost(t, rdb, testOptions())
		b, _ := startHost(t, rdb, testOptions())
		f := startFront(t, hostPort(a.srv.URL()))
		c := dialFront(t, frontURL(f))
		stream(t, c, pusher.push, rdb, n, func() {
			f.To(hostPort(b.srv.URL()))
			f.Cut()
			f.Restore()
		})
		assert.Equal(t, 1, c.Resumes())
		assert.Equal(t, 0, a.srv.Open())
		assert.Equal(t, 1, b.srv.Open(), "resumed on the other instance while its first is alive")
		// and back: pushes from its first instance reach it on the other
		require.NoError(t, a.push.Send(context.Background(), c.ID(), scfws.Text("from home")))
		_, data, err := c.Read(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "from home", string(data))
	})
}

func portOf(t *testing.T, u string) string {
	hp := hostPort(u)
	return hp[len("127.0.0.1:"):]
}

// TestResumeInMemory: one instance without Redis keeps its detached
// connections in memory: the same stream across lifetime closes and a TCP
// cut, and the window's end.
func TestResumeInMemory(t *testing.T) {
	_, rdb := startRedis(t) // the app's counts only
	o := testOptions()
	o.MaxLifetime = 150 * time.Millisecond
	a, _ := startHostOn(t, rdb, o, true)
	f := startFront(t, hostPort(a.srv.URL()))
	c := dialFront(t, frontURL(f))
	stream(t, c, a.push, rdb, 300, func() { f.Cut(); f.Restore() })
	assert.GreaterOrEqual(t, c.Resumes(), 2)

	o = testOptions()
	o.ResumeWindow = time.Second
	b, _ := startHostOn(t, rdb, o, true)
	f = startFront(t, hostPort(b.srv.URL()))
	c = dialFront(t, frontURL(f))
	id := c.ID()
	f.Cut()
	require.Eventually(t, func() bool { return rdb.Get(context.Background(), "cleanups:"+id).Val() == "1" },
		5*time.Second, 20*time.Millisecond, "cleanup at the end of the window")
	assert.ErrorIs(t, b.push.Send(context.Background(), id, scfws.Text("late")), scfws.ErrPushRefused)
}

// TestResumeOnCluster: a stream across lifetime closes and a resume on
// another instance, on a three-shard Redis Cluster (a connection's keys
// share its home's slot; the index is a key of its own).
func TestResumeOnCluster(t *testing.T) {
	cl, err := redistest.StartCluster(os.Stderr)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis Cluster on CI: %v", err)
		}
		t.Skipf("no Redis Cluster: %v", err)
	}
	t.Cleanup(cl.Close)
	bus := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs})
	t.Cleanup(func() { _ = bus.Close() })
	_, counts := startRedis(t) // the app's counts
	on := func(o *host.Options) *host.Options { o.Redis = bus; return o }
	pusher, _ := startHost(t, counts, on(testOptions()))
	o := testOptions()
	o.MaxLifetime = 150 * time.Millisecond
	a, _ := startHost(t, counts, on(o))
	b, _ := startHost(t, counts, on(testOptions()))
	f := startFront(t, hostPort(a.srv.URL()))
	c := dialFront(t, frontURL(f))
	stream(t, c, pusher.push, counts, 300, func() {
		f.To(hostPort(b.srv.URL()))
		f.Cut()
		f.Restore()
	})
	assert.GreaterOrEqual(t, c.Resumes(), 1)
	assert.Equal(t, 1, b.srv.Open())
}

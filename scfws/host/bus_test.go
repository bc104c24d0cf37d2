package host_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
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

// The bus's promises (bus.go), each broken on purpose: a link cut, a
// Redis restart, a burst past what an instance reads, a lost reply, a
// room over many instances, a Redis Cluster.

// startProxy puts a TCP proxy in front of the Redis at addr, for the test.
func startProxy(t *testing.T, addr string) *redistest.Proxy {
	t.Helper()
	p, err := redistest.StartProxy(addr)
	require.NoError(t, err)
	t.Cleanup(p.Close)
	return p
}

// near is an in-process host instance on rdb serving instanceApp, with a
// hub on a memory store for the tests that watch pruning.
type near struct {
	srv   *host.Server
	push  *scfws.PushClient
	store *hub.MemoryStore
	hub   *hub.Hub
	stop  func() // shuts it down (cleanly: it leaves the bus)
}

func startNear(t testing.TB, rdb redis.UniversalClient, opts *host.Options) *near {
	t.Helper()
	o := host.Options{}
	if opts != nil {
		o = *opts
	}
	o.Addr, o.Redis = "127.0.0.1:0", rdb
	o.MaxMessagesPerSecond, o.MaxBytesPerSecond = -1, -1
	srv, err := host.New(&o)
	require.NoError(t, err)
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	require.NoError(t, err)
	app := instanceApp(push, nil)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app}) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-served }) }
	t.Cleanup(stop)
	store := hub.NewMemoryStore()
	return &near{srv: srv, push: push, store: store, hub: hub.New(store, push, nil), stop: stop}
}

// join dials url, learns the connection's ID and puts it in n's store, in
// room.
func (n *near) join(t *testing.T, url, room string) (*websocket.Conn, string) {
	t.Helper()
	c := dial(t, url)
	c.SetReadLimit(1 << 20)
	id := ask(t, c, "me")
	bg := context.Background()
	require.NoError(t, n.store.Add(bg, hub.Conn{ID: id}))
	require.NoError(t, n.store.Join(bg, id, room))
	return c, id
}

// reach sends until a push to id succeeds (the instance is on the bus) and
// reads it.
func (n *near) reach(t *testing.T, c *websocket.Conn, id string) {
	t.Helper()
	require.Eventually(t, func() bool { return n.push.Send(context.Background(), id, scfws.Text("warm")) == nil },
		10*time.Second, 20*time.Millisecond)
	require.Equal(t, "warm", read(t, c))
}

// readAll reads what c receives until nothing came for quiet.
func readAll(c *websocket.Conn, quiet time.Duration) []string {
	var got []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), quiet)
		_, b, err := c.Read(ctx)
		cancel()
		if err != nil {
			return got
		}
		got = append(got, string(b))
	}
}

// sent is what sequence did: each push's error and when it was answered.
type sent struct {
	errs []error
	at   []time.Time
}

// sequence pushes "0", "1", … to id through n's hub every gap until stop
// is closed.
func (n *near) sequence(id string, gap time.Duration, stop <-chan struct{}) <-chan sent {
	out := make(chan sent, 1)
	go func() {
		var s sent
		for i := 0; ; i++ {
			select {
			case <-stop:
				out <- s
				return
			case <-time.After(gap):
			}
			s.errs = append(s.errs, n.hub.Send(context.Background(), id, scfws.Text(strconv.Itoa(i))))
			s.at = append(s.at, time.Now())
		}
	}()
	return out
}

// checkSequence: nothing refused; what arrived came once, in order, and
// had been answered success or unavailable; every success arrived unless
// lost is allowed for it.
func checkSequence(t *testing.T, errs []error, got []string, mayLose func(i int) bool) {
	t.Helper()
	last := -1
	arrived := map[int]bool{}
	for _, g := range got {
		i, err := strconv.Atoi(g)
		require.NoError(t, err, g)
		require.Greater(t, i, last, "once and in order")
		require.Less(t, i, len(errs))
		require.NotErrorIs(t, errs[i], scfws.ErrPushRefused)
		last = i
		arrived[i] = true
	}
	for i, err := range errs {
		require.NotErrorIs(t, err, scfws.ErrPushRefused, "push %d: a live connection is never refused", i)
		if err == nil && !mayLose(i) {
			assert.True(t, arrived[i], "push %d was answered success but did not arrive", i)
		}
	}
}

// TestBusCutLink: the link between the instance that holds a connection
// and Redis is cut for 300 ms while another pushes to it every 10 ms;
// nothing is refused, nothing pruned, and every push answered success
// arrives once, in order, when the link is back.
func TestBusCutLink(t *testing.T) {
	r, rdb := startRedis(t)
	p := startProxy(t, r.Addr)
	b := startInstance(t, p.Addr)
	a := startNear(t, rdb, nil)
	cb, id := a.join(t, b.url, "room")
	a.reach(t, cb, id)

	stop := make(chan struct{})
	results := a.sequence(id, 10*time.Millisecond, stop)
	p.Cut()
	time.Sleep(300 * time.Millisecond)
	p.Restore()
	time.Sleep(100 * time.Millisecond)
	close(stop)
	errs := (<-results).errs
	got := readAll(cb, 2*time.Second)
	checkSequence(t, errs, got, func(int) bool { return false })
	_, err := a.store.Get(context.Background(), id)
	require.NoError(t, err, "not pruned")
	t.Logf("%d pushes during a 300 ms cut, %d arrived", len(errs), len(got))
}

// TestBusRedisRestart: redis-server is killed (-9, no persistence: every
// key lost) and restarted three times while one instance pushes to
// another's connection every 5 ms: nothing is refused or pruned, nothing
// arrives twice or out of order, and after the restarts every push
// answered success arrives (those just before a kill may be lost with the
// stream: bus.go).
func TestBusRedisRestart(t *testing.T) {
	r, rdb := startRedis(t)
	if !r.Real {
		t.Skip("needs redis-server")
	}
	b := startInstance(t, r.Addr)
	a := startNear(t, rdb, nil)
	cb, id := a.join(t, b.url, "room")
	a.reach(t, cb, id)

	var got []string
	readDone := make(chan struct{})
	go func() { got = readAll(cb, 5*time.Second); close(readDone) }()
	stop := make(chan struct{})
	results := a.sequence(id, 5*time.Millisecond, stop)
	var lastKill time.Time
	for range 3 {
		time.Sleep(300 * time.Millisecond)
		lastKill = time.Now()
		require.NoError(t, r.Restart())
	}
	time.Sleep(2 * time.Second) // the instances back on the bus
	close(stop)
	res := <-results
	errs := res.errs
	<-readDone
	// a push answered before a kill may be lost with the stream (not yet
	// read); every one answered after the last kill must arrive
	checkSequence(t, errs, got, func(i int) bool { return res.at[i].Before(lastKill) })
	_, err := a.store.Get(context.Background(), id)
	require.NoError(t, err, "not pruned")
	var ok int
	for _, err := range errs {
		if err == nil {
			ok++
		}
	}
	t.Logf("%d pushes over 3 restarts: %d answered success, %d arrived", len(errs), ok, len(got))
}

// TestBusLargeBroadcast: a Broadcast of 256 KB of markup to 32
// connections of one instance puts the body on Redis once, not 32 times
// JSON-escaped (6 bytes each <, >, &), and every connection gets it; then,
// with that instance's reading slowed, a burst past MaxBusBacklog is
// partly answered unavailable — and exactly what was answered success
// arrives.
func TestBusLargeBroadcast(t *testing.T) {
	r, rdb := startRedis(t)
	p := startProxy(t, r.Addr)
	b := startInstance(t, p.Addr)
	a := startNear(t, rdb, &host.Options{MaxBusBacklog: 1 << 20})
	const conns = 32
	cs, ids := make([]*websocket.Conn, conns), make([]string, conns)
	for i := range conns {
		cs[i], ids[i] = a.join(t, b.url, "room")
	}
	a.reach(t, cs[0], ids[0])
	markup := strings.Repeat("<>&", (256<<10)/3)

	ctx := context.Background()
	before := commandStats(t, rdb)
	require.NoError(t, a.push.Broadcast(ctx, ids, scfws.Text(markup)))
	for _, c := range cs {
		require.Equal(t, markup, read(t, c))
	}
	assert.Equal(t, int64(1), commandStats(t, rdb)["xadd"]-before["xadd"], "one frame for the instance")

	p.Delay(20 * time.Millisecond) // B reads its stream slowly
	const rounds = 12
	success := make(map[string]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var unavailable int
	for range rounds {
		wg.Go(func() {
			err := a.hub.SendRoom(ctx, "room", scfws.Text(markup))
			mu.Lock()
			defer mu.Unlock()
			var be *scfws.BroadcastError
			if errors.As(err, &be) {
				require.NotErrorIs(t, err, scfws.ErrPushRefused)
				unavailable++
			} else {
				require.NoError(t, err)
			}
			for _, id := range ids {
				if be == nil || be.Failed[id] == nil {
					success[id]++
				}
			}
		})
	}
	counts := make([]int, conns)
	var readers sync.WaitGroup
	for i, c := range cs {
		readers.Go(func() { counts[i] = len(readAll(c, 3*time.Second)) })
	}
	wg.Wait()
	readers.Wait()
	for i, id := range ids {
		assert.Equal(t, success[id], counts[i], "connection %d: exactly what was answered success", i)
		_, err := a.store.Get(ctx, id)
		require.NoError(t, err, "not pruned")
	}
	assert.Positive(t, unavailable, "the backlog bound answered some unavailable")
	t.Logf("%d room sends of 256 KB to %d connections with reading slowed: %d unavailable", rounds, conns, unavailable)
}

// TestBusAtMostOnce: the reply to the command that carries a push is lost
// after Redis ran it; the app's go-redis client (default MaxRetries)
// sends it again; the connection gets the push once.
func TestBusAtMostOnce(t *testing.T) {
	r, _ := startRedis(t)
	p := startProxy(t, r.Addr)
	b := startInstance(t, r.Addr)
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr, ReadTimeout: 300 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	a := startNear(t, rdb, nil)
	cb, id := a.join(t, b.url, "room")
	a.reach(t, cb, id)

	ctx := context.Background()
	p.DropReply("once-a1b2c3")
	err := a.push.Send(ctx, id, scfws.Text("once-a1b2c3"))
	if err != nil {
		require.ErrorIs(t, err, scfws.ErrPushUnavailable)
	}
	require.Equal(t, 1, p.Dropped(), "a reply was lost")
	require.NoError(t, a.push.Send(ctx, id, scfws.Text("after")))
	assert.Equal(t, []string{"once-a1b2c3", "after"}, readAll(cb, time.Second))
}

// TestBusOnePublishPerInstance: a room of 40 connections over four
// instances; one SendRoom from the first appends one frame to each of the
// three others' streams, and every member gets the message once.
func TestBusOnePublishPerInstance(t *testing.T) {
	_, rdb := startRedis(t)
	var ns []*near
	for range 4 {
		ns = append(ns, startNear(t, rdb, nil))
	}
	a := ns[0]
	var cs []*websocket.Conn
	for _, n := range ns {
		for range 10 {
			c, _ := a.join(t, n.srv.URL(), "room")
			cs = append(cs, c)
		}
	}
	for _, n := range ns[1:] {
		c, id := a.join(t, n.srv.URL(), "probe")
		a.reach(t, c, id)
	}
	before := commandStats(t, rdb)
	require.NoError(t, a.hub.SendRoom(context.Background(), "room", scfws.Text("hello, room")))
	assert.Equal(t, int64(3), commandStats(t, rdb)["xadd"]-before["xadd"], "one frame per other instance")
	for _, c := range cs {
		assert.Equal(t, "hello, room", read(t, c))
	}
	noMore(t, cs)
}

// noMore checks that none of cs receives anything within 300 ms.
func noMore(t *testing.T, cs []*websocket.Conn) {
	t.Helper()
	extra := make([][]string, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() { extra[i] = readAll(c, 300*time.Millisecond) })
	}
	wg.Wait()
	for i := range cs {
		assert.Empty(t, extra[i], "connection %d: nothing twice", i)
	}
}

// TestBusCluster: the bus on a real three-shard Redis Cluster: instances
// whose keys sit on different shards push to each other, a room send
// reaches every member once, and an instance that left is refused at once.
func TestBusCluster(t *testing.T) {
	cl := startCluster(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs})
	t.Cleanup(func() { _ = rdb.Close() })
	var ns []*near
	for range 4 {
		ns = append(ns, startNear(t, rdb, nil))
	}
	a := ns[0]
	var cs []*websocket.Conn
	var ids []string
	for _, n := range ns {
		for range 3 {
			c, id := a.join(t, n.srv.URL(), "room")
			cs, ids = append(cs, c), append(ids, id)
		}
	}
	for i, c := range cs {
		a.reach(t, c, ids[i])
	}
	require.NoError(t, a.hub.SendRoom(context.Background(), "room", scfws.Text("across shards")))
	for _, c := range cs {
		assert.Equal(t, "across shards", read(t, c))
	}
	noMore(t, cs)
	// an instance that leaves cleanly: its connection is refused at once
	last := ns[len(ns)-1]
	last.stop()
	err := a.push.Send(context.Background(), ids[len(ids)-1], scfws.Text("anyone?"))
	require.ErrorIs(t, err, scfws.ErrPushRefused)
}

func startCluster(t *testing.T) *redistest.Cluster {
	t.Helper()
	cl, err := redistest.StartCluster(testLog{t})
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Redis Cluster on CI: %v", err)
		}
		t.Skipf("no Redis Cluster: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// commandStats reads INFO commandstats (redistest.CommandStats).
func commandStats(t testing.TB, rdb redis.UniversalClient) map[string]int64 {
	t.Helper()
	stats, err := redistest.CommandStats(context.Background(), rdb)
	require.NoError(t, err)
	return stats
}

// TestBusFence: an instance cut off from Redis for longer than two leases
// is taken for gone (its connection is refused and pruned); when it is
// back it closes that connection (1001), so a refused connection is never
// one still open.
func TestBusFence(t *testing.T) {
	r, rdb := startRedis(t)
	p := startProxy(t, r.Addr)
	const lease = time.Second
	b := startInstance(t, p.Addr, "SCFWS_TEST_LEASE="+lease.String())
	a := startNear(t, rdb, nil)
	cb, id := a.join(t, b.url, "room")
	a.reach(t, cb, id)

	p.Cut()
	cut := time.Now()
	var err2 error
	for {
		err2 = a.hub.Send(context.Background(), id, scfws.Text("anyone?"))
		if errors.Is(err2, scfws.ErrPushRefused) {
			break
		}
		require.Less(t, time.Since(cut), 2*lease+5*time.Second, "refused within two leases")
		time.Sleep(50 * time.Millisecond)
	}
	_, err := a.store.Get(context.Background(), id)
	require.ErrorIs(t, err, hub.ErrNotFound, "pruned")
	p.Restore()
	assert.Equal(t, websocket.StatusGoingAway, closeCode(t, cb), "closed once its instance is back")
}

// TestShutdownWithRedisHung: Redis stops answering (every reply held a
// minute) and the instance is told to stop: Serve still returns within
// ShutdownTimeout (it could not mark itself gone; its lease lapses as a
// killed instance's would).
func TestShutdownWithRedisHung(t *testing.T) {
	r, _ := startRedis(t)
	p := startProxy(t, r.Addr)
	rdb := redis.NewClient(&redis.Options{Addr: p.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	a := startNear(t, rdb, &host.Options{ShutdownTimeout: 2 * time.Second})
	c := dial(t, a.srv.URL())
	p.Delay(time.Minute)
	start := time.Now()
	a.stop()
	assert.Less(t, time.Since(start), 5*time.Second, "within ShutdownTimeout, and a little")
	assert.Equal(t, websocket.StatusGoingAway, closeCode(t, c))
}

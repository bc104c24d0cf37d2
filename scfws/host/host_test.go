package host_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

// app records what the host told it and echoes; "fail" fails, "panic"
// panics, "bye" closes the sender with a closing push, "many:N" pushes N
// numbered messages back, "sleep:D" takes D (a duration) to echo.
type app struct {
	mu        sync.Mutex
	registers []*scfws.RegisterEvent
	cleanups  map[string]int
	push      *scfws.PushClient
}

func (a *app) router(opts *scfws.RegisterOptions) *scfws.Router {
	return &scfws.Router{
		RegisterOptions: opts,
		Register: func(ctx context.Context, ev *scfws.RegisterEvent) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.registers = append(a.registers, ev)
			if ev.QueryString["token"] == "bad" {
				return scfws.Reject(4001, "bad token")
			}
			return nil
		},
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			id, data := ev.ConnectionID(), ev.WebSocket.Data
			var n int
			_, scanErr := fmt.Sscanf(data, "many:%d", &n)
			switch {
			case data == "fail":
				return errors.New("told to fail")
			case data == "panic":
				panic("told to panic")
			case data == "bye":
				return a.push.Disconnect(ctx, id)
			case strings.HasPrefix(data, "sleep:"):
				d, err := time.ParseDuration(strings.TrimPrefix(data, "sleep:"))
				if err != nil {
					return err
				}
				time.Sleep(d)
				return a.push.Send(ctx, id, ev.Message())
			case scanErr == nil && n > 0:
				for i := range n {
					if err := a.push.Send(ctx, id, scfws.Text(fmt.Sprint(i))); err != nil {
						return err
					}
				}
				return nil
			}
			return a.push.Send(ctx, id, ev.Message())
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error {
			a.mu.Lock()
			defer a.mu.Unlock()
			a.cleanups[ev.ConnectionID()]++
			return nil
		},
	}
}

func (a *app) cleanupCount(id string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cleanups[id]
}

func (a *app) lastRegister() *scfws.RegisterEvent {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.registers[len(a.registers)-1]
}

// running is a host serving in the background; stop shuts it down.
type running struct {
	*host.Server
	stop func() error
}

// start serves the echo app on a host on loopback; opts' Addr is set.
func start(t *testing.T, opts *host.Options, regOpts *scfws.RegisterOptions) (*running, *app) {
	t.Helper()
	o := host.Options{}
	if opts != nil {
		o = *opts
	}
	o.Addr = "127.0.0.1:0"
	s, err := host.New(&o)
	require.NoError(t, err)
	push, err := scfws.NewPushClient(s.PushURL(), &scfws.PushOptions{HTTPClient: s.Client()})
	require.NoError(t, err)
	a := &app{cleanups: map[string]int{}, push: push}
	r := a.router(regOpts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, scfws.Functions{Register: r, Transmission: r, Cleanup: r}) }()
	var once sync.Once
	var serveErr error
	stop := func() error {
		once.Do(func() { cancel(); serveErr = <-done })
		return serveErr
	}
	t.Cleanup(func() { _ = stop() })
	return &running{Server: s, stop: stop}, a
}

func dial(t *testing.T, url string, protocols ...string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: protocols})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func read(t *testing.T, c *websocket.Conn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	require.NoError(t, err)
	return string(b)
}

func write(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(s)))
}

// closeCode reads until the connection ends and returns its close code (-1
// for none).
func closeCode(t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			require.NotErrorIs(t, err, context.DeadlineExceeded, "the connection did not end")
			return websocket.CloseStatus(err)
		}
	}
}

func TestEchoAndOrder(t *testing.T) {
	s, _ := start(t, nil, nil)
	c := dial(t, s.URL())
	write(t, c, "hello")
	assert.Equal(t, "hello", read(t, c))
	write(t, c, "many:200")
	for i := range 200 {
		require.Equal(t, fmt.Sprint(i), read(t, c), "pushes arrive in order")
	}
}

func TestRegisterEventFromHandshake(t *testing.T) {
	s, a := start(t, nil, nil)
	dial(t, strings.Replace(s.URL(), "ws://", "ws://", 1)+"chat?token=ok&room=a&room=b")
	ev := a.lastRegister()
	require.NotNil(t, ev.RequestContext)
	assert.Equal(t, "/chat", ev.RequestContext.Path)
	assert.Equal(t, "GET", ev.RequestContext.HTTPMethod)
	assert.Equal(t, "127.0.0.1", ev.RequestContext.SourceIP)
	assert.NotEmpty(t, ev.RequestContext.RequestID)
	assert.Equal(t, map[string]string{"token": "ok", "room": "a,b"}, ev.QueryString)
	assert.Equal(t, "websocket", ev.Headers["upgrade"])
	assert.Len(t, ev.ConnectionID(), 24)

	_, resp, err := websocket.Dial(context.Background(), s.URL()+"?token=bad", nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "refused by errNo")
}

func TestPlainRequestIsNotAConnection(t *testing.T) {
	s, a := start(t, nil, nil)
	resp, err := http.Get("http://" + s.Addr() + "/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Empty(t, a.registers)
}

// TestCleanupExactlyOnce ends a connection every way there is; each time
// the client sees the documented close code, cleanup runs exactly once,
// and a push afterwards is refused.
func TestCleanupExactlyOnce(t *testing.T) {
	s, a := start(t, &host.Options{MaxMessagesPerSecond: 5, MaxMessageSize: 1024}, nil)
	ways := map[string]struct {
		do   func(t *testing.T, c *websocket.Conn)
		code websocket.StatusCode
	}{
		"client close":   {func(t *testing.T, c *websocket.Conn) { _ = c.Close(websocket.StatusNormalClosure, "") }, -2},
		"client drop":    {func(t *testing.T, c *websocket.Conn) { _ = c.CloseNow() }, -2},
		"closing push":   {func(t *testing.T, c *websocket.Conn) { write(t, c, "bye") }, websocket.StatusNormalClosure},
		"failed message": {func(t *testing.T, c *websocket.Conn) { write(t, c, "fail") }, websocket.StatusInternalError},
		"panic":          {func(t *testing.T, c *websocket.Conn) { write(t, c, "panic") }, websocket.StatusInternalError},
		"too large":      {func(t *testing.T, c *websocket.Conn) { write(t, c, strings.Repeat("x", 2000)) }, websocket.StatusMessageTooBig},
		"too many": {func(t *testing.T, c *websocket.Conn) {
			for range 20 {
				if c.Write(context.Background(), websocket.MessageText, []byte("x")) != nil {
					return
				}
			}
		}, websocket.StatusPolicyViolation},
	}
	for name, way := range ways {
		t.Run(name, func(t *testing.T) {
			c := dial(t, s.URL())
			id := a.lastRegister().ConnectionID()
			way.do(t, c)
			if way.code != -2 { // the client ended it itself
				assert.Equal(t, way.code, closeCode(t, c))
			}
			assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 5*time.Second, 5*time.Millisecond)
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, 1, a.cleanupCount(id), "exactly once")
			err := a.push.Send(context.Background(), id, scfws.Text("late"))
			require.ErrorIs(t, err, scfws.ErrPushRefused)
		})
	}
}

func TestLifetimeHeartbeatAndShutdown(t *testing.T) {
	s, a := start(t, &host.Options{MaxLifetime: 300 * time.Millisecond}, nil)
	c := dial(t, s.URL())
	id := a.lastRegister().ConnectionID()
	assert.Equal(t, websocket.StatusNormalClosure, closeCode(t, c), "lifetime")
	assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 5*time.Second, 5*time.Millisecond)

	// a client that never reads answers no ping
	s, a = start(t, &host.Options{Heartbeat: 100 * time.Millisecond}, nil)
	dial(t, s.URL())
	id = a.lastRegister().ConnectionID()
	assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 5*time.Second, 5*time.Millisecond,
		"dropped after an unanswered ping")
	reader := dial(t, s.URL())
	readerID := a.lastRegister().ConnectionID()
	go func() { _, _, _ = reader.Read(context.Background()) }() // answers pings
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, 0, a.cleanupCount(readerID), "a client that answers pings stays")

	ids := []string{readerID}
	conns := []*websocket.Conn{}
	for range 5 {
		conns = append(conns, dial(t, s.URL()))
		ids = append(ids, a.lastRegister().ConnectionID())
	}
	codes := make([]websocket.StatusCode, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { codes[i] = closeCode(t, c) })
	}
	require.NoError(t, s.stop())
	wg.Wait()
	for _, code := range codes {
		assert.Equal(t, websocket.StatusGoingAway, code)
	}
	for _, id := range ids {
		assert.Equal(t, 1, a.cleanupCount(id), "shutdown runs each cleanup once, before Serve returns")
	}
}

// TestSlowReaderIsClosed: a client that does not read while pushes pile up
// is closed, and the pushes past its queue are refused; memory stays
// bounded by the queue.
func TestSlowReaderIsClosed(t *testing.T) {
	s, a := start(t, &host.Options{MaxQueued: 1 << 20, MaxMessagesPerSecond: -1, MaxBytesPerSecond: -1}, nil)
	c := dial(t, s.URL())
	id := a.lastRegister().ConnectionID()
	big := scfws.Text(strings.Repeat("y", 200<<10))
	var refused error
	for range 2000 {
		if err := a.push.Send(context.Background(), id, big); err != nil {
			refused = err
			break
		}
	}
	require.ErrorIs(t, refused, scfws.ErrPushRefused, "the queue filled up")
	assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 10*time.Second, 5*time.Millisecond)
	_ = c
}

func TestPushToUnknownConnectionIsRefused(t *testing.T) {
	s, a := start(t, nil, nil)
	for _, id := range []string{"nope", "AAAAAAAAAAAAAAAAAAAAAAAA"} {
		err := a.push.Send(context.Background(), id, scfws.Text("x"))
		require.ErrorIs(t, err, scfws.ErrPushRefused, id)
		var pe *scfws.PushError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, http.StatusNotFound, pe.StatusCode)
	}
	_, err := s.Client().Get("http://example.com/")
	require.Error(t, err, "the client pushes to this host only")
}

// TestBroadcastAnswersAsSend: a Broadcast handed to the host whole answers
// each ID as Send would: "" is ErrEmptyConnectionID (no push), an unknown
// ID is refused, a live one gets it.
func TestBroadcastAnswersAsSend(t *testing.T) {
	s, a := start(t, nil, nil)
	c := dial(t, s.URL())
	id := a.lastRegister().ConnectionID()
	err := a.push.Broadcast(context.Background(), []string{"", "nope", id}, scfws.Text("to all"))
	var be *scfws.BroadcastError
	require.ErrorAs(t, err, &be)
	require.ErrorIs(t, be.Failed[""], scfws.ErrEmptyConnectionID)
	require.ErrorIs(t, be.Failed["nope"], scfws.ErrPushRefused)
	assert.NotContains(t, be.Failed, id)
	assert.Equal(t, 1, be.Sent)
	assert.Equal(t, "to all", read(t, c))
}

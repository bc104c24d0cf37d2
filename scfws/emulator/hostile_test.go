package emulator_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// TestMaxConnectionsExact: with a slow register function and many dials at
// once, never more than MaxConnections are open or being registered.
func TestMaxConnectionsExact(t *testing.T) {
	const limit, dials = 20, 120
	var inRegister, maxInRegister atomic.Int64
	slow := scfws.NewRegisterHandler(func(context.Context, *scfws.RegisterEvent) error {
		n := inRegister.Add(1)
		defer inRegister.Add(-1)
		for m := maxInRegister.Load(); n > m && !maxInRegister.CompareAndSwap(m, n); m = maxInRegister.Load() {
		}
		time.Sleep(100 * time.Millisecond)
		return nil
	}, nil)
	s, _ := start(t, &emulator.Options{MaxConnections: limit, InvokeTimeout: 10 * time.Second}, nil,
		&scfws.Functions{Register: slow})
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		open     []*websocket.Conn
		refused  int
		failures []error
	)
	for range dials {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, s.URL(), nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				open = append(open, c)
			case resp != nil && resp.StatusCode == http.StatusServiceUnavailable:
				refused++
			default:
				failures = append(failures, err)
			}
		})
	}
	wg.Wait()
	require.Empty(t, failures)
	assert.LessOrEqual(t, maxInRegister.Load(), int64(limit), "registrations at once")
	assert.LessOrEqual(t, len(open), limit, "connections open")
	assert.Equal(t, dials, len(open)+refused)
	for _, c := range open {
		_ = c.Close(websocket.StatusNormalClosure, "")
	}
	eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, _, err := websocket.Dial(ctx, s.URL(), nil)
		if err == nil {
			_ = c.CloseNow()
		}
		return err == nil
	}, "places are given back")
}

// rawRequest sends a raw HTTP request and returns the status line.
func rawRequest(t *testing.T, addr, req string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	_, err = io.WriteString(conn, req)
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	return strings.TrimSpace(line)
}

// TestInvalidHandshakesInvokeNothing: only a valid RFC 6455 opening
// handshake reaches the register function.
func TestInvalidHandshakesInvokeNothing(t *testing.T) {
	s, a := start(t, nil, nil, nil)
	const key = "dGhlIHNhbXBsZSBub25jZQ=="
	req := func(method, proto string, headers ...string) string {
		return method + " /release/websocket " + proto + "\r\nHost: x\r\n" + strings.Join(headers, "\r\n") + "\r\n\r\n"
	}
	valid := []string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "Sec-WebSocket-Key: " + key}
	cases := map[string]struct {
		req  string
		want string
	}{
		"no Connection: Upgrade": {req("GET", "HTTP/1.1", valid[0], "Connection: keep-alive", valid[2], valid[3]), "426"},
		"no Upgrade":             {req("GET", "HTTP/1.1", valid[1], valid[2], valid[3]), "426"},
		"version 99":             {req("GET", "HTTP/1.1", valid[0], valid[1], "Sec-WebSocket-Version: 99", valid[3]), "426"},
		"no version":             {req("GET", "HTTP/1.1", valid[0], valid[1], valid[3]), "426"},
		"bad key":                {req("GET", "HTTP/1.1", valid[0], valid[1], valid[2], "Sec-WebSocket-Key: short"), "400"},
		"no key":                 {req("GET", "HTTP/1.1", valid[0], valid[1], valid[2]), "400"},
		"POST":                   {req("POST", "HTTP/1.1", append(valid, "Content-Length: 0")...), "400"},
		"HTTP/1.0":               {req("GET", "HTTP/1.0", valid...), "400"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			assert.Contains(t, rawRequest(t, s.Addr(), tc.req), " "+tc.want+" ")
		})
	}
	a.mu.Lock()
	assert.Empty(t, a.registers, "no register invocation")
	assert.Empty(t, a.cleanups, "no cleanup invocation")
	a.mu.Unlock()
	assert.Contains(t, rawRequest(t, s.Addr(), req("GET", "HTTP/1.1", valid...)), " 101 ", "the valid one is accepted")
}

// TestRefusalShowsNoFunctionText: what a register function said (an error,
// a panic, its answer) is logged, never sent to the client.
func TestRefusalShowsNoFunctionText(t *testing.T) {
	cases := map[string]invokerFunc{
		"error":  func(context.Context, []byte) ([]byte, error) { return nil, errors.New("db password hunter2") },
		"panic":  func(context.Context, []byte) ([]byte, error) { panic("hunter2") },
		"answer": func(context.Context, []byte) ([]byte, error) { return []byte(`"hunter2"`), nil },
		"refusal": func(context.Context, []byte) ([]byte, error) {
			return []byte(`{"errNo":4001,"errMsg":"hunter2"}`), nil
		},
	}
	for name, fn := range cases {
		t.Run(name, func(t *testing.T) {
			s, _ := start(t, nil, nil, &scfws.Functions{Register: fn})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, resp, err := websocket.Dial(ctx, s.URL(), nil)
			require.Error(t, err)
			require.NotNil(t, resp)
			body, _ := io.ReadAll(resp.Body)
			assert.NotContains(t, string(body), "hunter2")
			assert.Equal(t, http.StatusText(resp.StatusCode)+"\n", string(body))
		})
	}
}

// TestPushSlowBodyTimesOut: a push whose body never comes does not hold
// the endpoint.
func TestPushSlowBodyTimesOut(t *testing.T) {
	s, _ := start(t, nil, nil, nil)
	conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api-local HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	require.NoError(t, err)
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	_, err = io.ReadAll(conn) // the server answers and closes, or just closes
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 20*time.Second)
}

// TestPushBoundFollowsTheMessage: a push is bounded by its message's size,
// not by its escaped form: 1.5 MB of "<>" (each escaped to 6 bytes in
// JSON, 9 MB of body) is delivered under the 6 MB limit; a message over it
// is refused.
func TestPushBoundFollowsTheMessage(t *testing.T) {
	s, a := start(t, nil, nil, nil)
	c := dial(t, s)
	c.SetReadLimit(8 << 20)
	id := a.lastRegister().ConnectionID()
	ctx := context.Background()
	big := strings.Repeat("<>", 750_000)
	p, err := scfws.NewPushClient(s.PushURL(), &scfws.PushOptions{Timeout: 30 * time.Second})
	require.NoError(t, err)
	require.NoError(t, p.Send(ctx, id, scfws.Text(big)))
	_, got := read(t, c)
	assert.Equal(t, len(big), len(got))
	err = p.Send(ctx, id, scfws.Text(strings.Repeat("x", 6<<20+1)))
	require.ErrorIs(t, err, scfws.ErrPushRefused)
}

// TestInvalidUTF8Closes1007: a text frame that is not UTF-8 closes the
// client with 1007 (RFC 6455 §8.1) and reaches no function.
func TestInvalidUTF8Closes1007(t *testing.T) {
	s, a := start(t, nil, nil, nil)
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("bad \xff\xfe")))
	_, _, err := c.Read(ctx)
	assert.Equal(t, websocket.StatusInvalidFramePayloadData, websocket.CloseStatus(err))
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Empty(t, a.messages)
}

// TestHeaderLimit64KB: request headers up to 64 KB are read; more are
// refused (431).
func TestHeaderLimit64KB(t *testing.T) {
	s, _ := start(t, nil, nil, nil)
	status := func(headerBytes int) int {
		conn, err := net.DialTimeout("tcp", s.Addr(), 5*time.Second)
		require.NoError(t, err)
		defer conn.Close()
		line := "GET /nothing HTTP/1.1\r\nHost: x\r\n"
		pad := headerBytes - len(line) - len("X-Pad: \r\n\r\n")
		_, err = fmt.Fprintf(conn, "%sX-Pad: %s\r\n\r\n", line, strings.Repeat("a", pad))
		require.NoError(t, err)
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.NotEqual(t, http.StatusRequestHeaderFieldsTooLarge, status(63<<10))
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, status(65<<10))
}

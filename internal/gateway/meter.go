package gateway

import (
	"bufio"
	"net"
	"net/http"
	"sync"
	"time"
)

// meteredConn counts every byte a client sends on the wire — data frames,
// pings, pongs, continuations and their headers alike — against its
// Options.MaxBytesPerSecond: a token bucket holding a second's worth, or
// one MaxMessageSize message with its frame header if that is more (any
// message the size limit takes passes when the connection was idle). A
// client over it is closed with 1008 and from then on read no faster than
// the rate, so a flood of any frame costs what the limit allows, no more.
type meteredConn struct {
	net.Conn
	c *conn

	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
	over   bool
}

// frameOverhead is the most a frame adds to its payload: 2 bytes, 8 of
// extended length, 4 of mask.
const frameOverhead = 14

func newMeteredConn(nc net.Conn, c *conn, rate float64, maxMessage int64) *meteredConn {
	burst := max(rate, float64(maxMessage+frameOverhead))
	return &meteredConn{Conn: nc, c: c, rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

func (m *meteredConn) Read(p []byte) (int, error) {
	if wait := m.debt(); wait > 0 {
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-m.c.ctx.Done():
			t.Stop()
		}
	}
	n, err := m.Conn.Read(p)
	if n > 0 && m.take(n) {
		m.c.overLimit("too many bytes per second")
	}
	return n, err
}

// debt is how long a client over its limit waits before its next read.
func (m *meteredConn) debt() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refill()
	if !m.over || m.tokens >= 0 {
		return 0
	}
	return time.Duration(-m.tokens / m.rate * float64(time.Second))
}

// take counts n bytes; it reports true the first time the client is over.
func (m *meteredConn) take(n int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refill()
	m.tokens -= float64(n)
	if m.tokens >= 0 || m.over {
		return false
	}
	m.over = true
	return true
}

func (m *meteredConn) refill() {
	now := time.Now()
	m.tokens = min(m.burst, m.tokens+now.Sub(m.last).Seconds()*m.rate)
	m.last = now
}

// hijackWriter hands coder/websocket the handshake's connection without
// the request's read deadline (requestTimeout: a WebSocket lives on),
// through wrap (the conn keeps it; metered when the client's bytes are
// bounded).
type hijackWriter struct {
	http.ResponseWriter
	wrap func(net.Conn) net.Conn // nil: as it is
}

func (w hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	_ = nc.SetDeadline(time.Time{})
	if w.wrap != nil {
		nc = w.wrap(nc)
	}
	return nc, brw, nil
}

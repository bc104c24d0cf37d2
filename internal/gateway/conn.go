package gateway

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/internal/wire"
	"github.com/scfws/scfws-go/scfws"
)

// writeTimeout bounds one write to a client.
const writeTimeout = 5 * time.Second

// conn is one connection the register function accepted. It is known to
// the server before the handshake's answer is sent, so that a push right
// after the client sees the connection open finds it; ws is set, and ready
// closed, once the handshake is done.
type conn struct {
	s      *Server
	id     string
	ws     *websocket.Conn
	nc     net.Conn // under ws: what drop closes, whatever ws is waiting for
	ready  chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	closed sync.Once
	// invoking counts the transmission calls started; busy is set during
	// one: the heartbeat never drops a client while it is being served
	// (its pong waits unread behind the call).
	invoking atomic.Uint64
	busy     atomic.Bool
	// byServer is set when this side ended the connection (a closing push,
	// the idle timeout, shutdown, a failed invocation or push, a limit, a
	// protocol error): no cleanup then, unless Options.CleanupOnServerClose.
	byServer atomic.Bool
	// rel is the reliable mode's state (nil for a plain connection);
	// resumable is set when this side ends the socket in a way the client
	// resumes from (lifetime, shutdown, a dead socket), terminal when the
	// logical connection ends; readErr is what ended the reading.
	rel       *relState
	resumable atomic.Bool
	terminal  atomic.Bool
	readErr   error

	// the send queue, written by one drain goroutine at a time (started
	// when the queue becomes non-empty, so an idle connection has none)
	mu      sync.Mutex
	queue   []outgoing
	queued  int64 // bytes in queue
	writing bool
	gone    bool
}

// outgoing is a message to write, or a close (code ≠ 0) after the
// messages queued before it.
type outgoing struct {
	typ    websocket.MessageType
	data   []byte
	code   websocket.StatusCode
	reason string
	seq    uint64 // reliable mode: the data message's seq, written before it
	ctl    bool   // reliable mode: a control message (no seq)
	replay bool   // reliable mode: what a resumed client missed (bounded by MaxResumeBytes, not MaxQueued)
}

var (
	errGone     = errors.New("connection gone")
	errOverflow = errors.New("send queue full")
)

func newConn(s *Server, id string) *conn {
	ctx, cancel := context.WithCancel(context.Background())
	return &conn{s: s, id: id, ready: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// accepted records the finished handshake.
func (c *conn) accepted(ws *websocket.Conn) {
	c.ws = ws
	close(c.ready)
}

// conn waits for the handshake to finish; false when the connection ended
// first or ctx did.
func (c *conn) conn(ctx context.Context) (*websocket.Conn, bool) {
	select {
	case <-c.ready:
		return c.ws, true
	case <-c.ctx.Done():
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// send queues m for the client, in order; errOverflow (the client is then
// closed) when Options.MaxQueued bytes would be waiting, errGone when it
// has ended.
func (c *conn) send(m outgoing) error {
	c.mu.Lock()
	if c.rel != nil && !m.ctl && m.seq == 0 {
		switch c.rel.phase {
		case relParking, relParked:
			c.mu.Unlock()
			return errParked // the caller takes it where the connection is kept
		case relResuming:
			gone := c.gone
			c.mu.Unlock()
			if gone { // its resume was refused: it is kept elsewhere
				return errParked
			}
			return errResuming
		case relClaimed:
			c.rel.pre = append(c.rel.pre, m) // numbered once what it missed is queued
			c.mu.Unlock()
			return nil
		}
		if m.code != 0 && !c.resumable.Load() { // a closing push ends the logical connection
			c.terminal.Store(true)
			if !c.gone {
				c.mu.Unlock()
				_ = c.send(endMessage("closed by the server"))
				c.mu.Lock()
			}
		}
		if c.gone && !c.terminal.Load() && m.code == 0 {
			// the socket is ending and the client will resume: kept for it
			_, err := c.relSend(m)
			if err == errResumeBuffer {
				c.terminal.Store(true) // past its bound: it cannot resume (set under mu: see snapshot)
				err = errOverflow
			}
			c.mu.Unlock()
			return err
		}
		if !c.gone && m.code == 0 {
			var err error
			if m, err = c.relSend(m); err != nil {
				c.mu.Unlock()
				c.terminal.Store(true)
				c.close(websocket.StatusPolicyViolation, "resume buffer full: acknowledging too slowly")
				return errOverflow
			}
		}
	}
	if c.gone || c.ctx.Err() != nil {
		c.mu.Unlock()
		return errGone
	}
	if q := c.s.opts.MaxQueued; q > 0 && !m.replay && len(c.queue) > 0 && c.queued+int64(len(m.data)) > q {
		c.gone = true
		c.mu.Unlock()
		c.close(websocket.StatusPolicyViolation, "send queue full: reading too slowly")
		return errOverflow
	}
	c.queue = append(c.queue, m)
	c.queued += int64(len(m.data))
	if m.code != 0 {
		c.gone = true // nothing after a close
	}
	start := !c.writing
	c.writing = true
	c.mu.Unlock()
	if start {
		go c.drain()
	}
	return nil
}

// drain writes the queue until it is empty.
func (c *conn) drain() {
	ws, ok := c.conn(context.Background())
	for {
		c.mu.Lock()
		if len(c.queue) == 0 || !ok {
			c.queue, c.queued, c.writing = nil, 0, false
			c.mu.Unlock()
			return
		}
		m := c.queue[0]
		c.queue[0] = outgoing{}
		c.queue = c.queue[1:]
		c.queued -= int64(len(m.data))
		c.mu.Unlock()
		if m.code != 0 {
			c.byServer.Store(true)
			_ = ws.Close(m.code, m.reason)
			c.cancel()
			continue
		}
		ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
		err := write(ctx, ws, m)
		cancel()
		if err != nil {
			c.drop()
			ok = false
		}
	}
}

// write writes one message; a reliable data message with its seq before
// its bytes, in one frame.
func write(ctx context.Context, ws *websocket.Conn, m outgoing) error {
	if m.seq == 0 {
		return ws.Write(ctx, m.typ, m.data)
	}
	bp := framePool.Get().(*[]byte)
	b := seqPrefix((*bp)[:0], m.typ, m.seq)
	b = append(b, m.data...)
	err := ws.Write(ctx, m.typ, b)
	if cap(b) <= 64<<10 { // a pooled buffer stays small
		*bp = b
		framePool.Put(bp)
	}
	return err
}

// framePool holds the buffers a reliable message is framed in.
var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// endMessage tells a reliable client that its logical connection ends.
func endMessage(reason string) outgoing {
	return control(map[string]any{"type": "end", "reason": reason})
}

// serve reads the client's messages until it goes, then runs cleanup.
func (c *conn) serve() {
	defer c.finish()
	o := &c.s.opts
	var idle *time.Timer
	if o.IdleTimeout > 0 {
		idle = time.AfterFunc(o.IdleTimeout, func() { c.close(o.IdleCode, "idle timeout") })
		defer idle.Stop()
	}
	if o.MaxLifetime > 0 {
		t := time.AfterFunc(o.MaxLifetime, func() {
			c.closeResumable(websocket.StatusNormalClosure, "connection lifetime reached: reconnect")
		})
		defer t.Stop()
	}
	if o.Heartbeat > 0 {
		var hb *time.Timer
		hb = time.AfterFunc(o.Heartbeat, func() {
			if c.busy.Load() { // being served: its pong would wait unread
				hb.Reset(o.Heartbeat)
				return
			}
			calls := c.invoking.Load()
			ctx, cancel := context.WithTimeout(c.ctx, o.Heartbeat)
			defer cancel()
			if err := c.ws.Ping(ctx); err != nil {
				if c.ctx.Err() != nil {
					return
				}
				if c.busy.Load() || c.invoking.Load() != calls {
					hb.Reset(o.Heartbeat) // served meanwhile: not a silent client
					return
				}
				c.drop() // no pong: the client is gone
				return
			}
			hb.Reset(o.Heartbeat)
		})
		defer hb.Stop()
	}
	lim := newLimiter(o.MaxMessagesPerSecond)
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			c.readErr = err
			if !closedByClient(err) {
				c.byServer.Store(true)
			}
			c.s.log.Info(c.s.opts.LogPrefix+": disconnected", "secConnectionID", c.id, "reason", closeReason(err),
				"byServer", c.byServer.Load())
			return
		}
		if c.isGone() {
			continue // closing: nothing more is handled; Read ends once the close is done
		}
		if idle != nil {
			idle.Reset(o.IdleTimeout)
		}
		if typ == websocket.MessageText && !utf8.Valid(data) { // RFC 6455 §8.1
			c.close(websocket.StatusInvalidFramePayloadData, "text message is not UTF-8")
			continue
		}
		var seq uint64
		if c.rel != nil {
			var deliver bool
			seq, data, deliver, err = c.relRead(typ, data)
			if err != nil {
				c.close(websocket.StatusProtocolError, "reliable mode: "+err.Error())
				continue
			}
			if !deliver {
				continue // an acknowledgement, or a message handled before
			}
		}
		if why := lim.take(); why != "" {
			c.overLimit(why)
			continue // Read ends once the close is done
		}
		if c.s.fns.Transmission == nil {
			if seq != 0 {
				c.handled(seq)
			}
			continue
		}
		m := scfws.Text(string(data))
		if typ == websocket.MessageBinary {
			m = scfws.Binary(data)
		}
		// a transmission event is shaped as a data push: the same encoder
		payload, _ := wire.Push{Action: wire.ActionDataSend, ConnectionID: c.id, DataType: string(m.DataType), Data: m.Data}.Marshal()
		start := time.Now()
		c.invoking.Add(1)
		c.busy.Store(true)
		// as in the cloud, the invocation does not end when the client goes
		_, err = c.s.invoke(context.Background(), "transmission", c.s.fns.Transmission, payload)
		c.busy.Store(false)
		c.s.logEvent(scfws.ActionDataSend, c.id, start, err, m.Data)
		if err != nil {
			if o.CloseOnFailure {
				c.close(websocket.StatusInternalError, "internal error")
				continue
			}
			c.drop() // as the gateway: no close frame
			return
		}
		if seq != 0 {
			c.handled(seq)
		}
	}
}

func closeReason(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return "close " + code.String()
	}
	if errors.Is(err, context.Canceled) {
		return "closed by this side"
	}
	return err.Error()
}

// closedByClient reports whether a read error is the client's doing: its
// close frame, or its end of the TCP connection.
func closedByClient(err error) bool {
	return websocket.CloseStatus(err) != -1 || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET)
}

// drop ends the connection at once, without a close frame, as the gateway
// does after a failed invocation or push.
func (c *conn) drop() {
	if !c.terminal.Load() {
		c.resumable.Store(true) // a dead socket, or out of time: the client resumes
	}
	c.byServer.Store(true)
	c.markGone()
	if ws, ok := c.conn(context.Background()); ok {
		// the socket first: a close handshake in progress would otherwise
		// hold CloseNow until the client answers or 5 s pass
		if c.nc != nil {
			_ = c.nc.Close()
		}
		_ = ws.CloseNow()
	}
	c.cancel()
}

// closeBehind closes the connection with code and reason once what is
// queued for it has been written (at once if nothing is).
func (c *conn) closeBehind(code websocket.StatusCode, reason string) {
	if c.send(outgoing{code: code, reason: reason}) != nil {
		c.close(code, reason)
	}
}

// close starts the close handshake from this side; serve's Read then
// returns.
func (c *conn) close(code websocket.StatusCode, reason string) {
	end := c.rel != nil && !c.resumable.Load()
	if end {
		c.terminal.Store(true)
	}
	c.byServer.Store(true)
	c.markGone()
	go func() {
		if ws, ok := c.conn(context.Background()); ok {
			if end { // a reliable client is told not to resume
				ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
				_ = write(ctx, ws, endMessage(reason))
				cancel()
			}
			_ = ws.Close(code, reason)
		}
		c.cancel()
	}()
}

// closeResumable closes the socket in a way a reliable client resumes
// from (for a plain one, as close).
func (c *conn) closeResumable(code websocket.StatusCode, reason string) {
	if !c.terminal.Load() {
		c.resumable.Store(true)
	}
	c.close(code, reason)
}

// keep reports whether the logical connection outlives its ended socket:
// a reliable one that this side closed for the client to resume, or whose
// socket died without a close frame (a client's close frame ends it).
func (c *conn) keep() bool {
	if c.rel == nil || c.terminal.Load() {
		return false
	}
	select {
	case <-c.ready:
	default:
		return false // the handshake failed
	}
	return c.resumable.Load() || c.s.isClosing() || websocket.CloseStatus(c.readErr) == -1
}

func (c *conn) isGone() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gone
}

func (c *conn) markGone() {
	c.mu.Lock()
	c.gone = true
	c.mu.Unlock()
}

// finish forgets the connection and invokes cleanup, once: for a close the
// client started, or for any with Options.CleanupOnServerClose.
func (c *conn) finish() {
	c.closed.Do(func() {
		keep := c.keep()
		if c.rel != nil && !keep {
			c.terminal.Store(true) // pushes from now on are refused
		}
		c.markGone()
		c.cancel()
		select {
		case <-c.ready:
			_ = c.ws.CloseNow()
		default: // the handshake failed
			c.byServer.Store(true)
		}
		if keep && c.s.park(c) {
			c.s.remove(c)
			c.s.sessions.Done()
			return
		}
		c.s.remove(c)
		if !c.byServer.Load() || c.s.opts.CleanupOnServerClose {
			c.s.cleanup(c.id)
		}
		if c.rel != nil {
			c.s.opts.Reliable.Ended(c.id)
		}
		c.s.sessions.Done()
	})
}

// overLimit closes a client over a limit with 1008.
func (c *conn) overLimit(why string) {
	if c.isGone() {
		return
	}
	c.s.log.Warn(c.s.opts.LogPrefix+": client over a limit", "secConnectionID", c.id, "limit", why)
	c.close(websocket.StatusPolicyViolation, why)
}

// limiter is a client's message bucket, holding one second's worth; used
// by the reading goroutine only. (Its bytes are counted on the wire:
// meteredConn.)
type limiter struct {
	rate, msgs float64
	last       time.Time
}

func newLimiter(rate float64) *limiter {
	return &limiter{rate: rate, msgs: rate, last: time.Now()}
}

// take counts one message: "" within the limit, else why not.
func (l *limiter) take() string {
	if l.rate <= 0 {
		return ""
	}
	now := time.Now()
	l.msgs = min(l.rate, l.msgs+now.Sub(l.last).Seconds()*l.rate) - 1
	l.last = now
	if l.msgs < 0 {
		return "too many messages per second"
	}
	return ""
}

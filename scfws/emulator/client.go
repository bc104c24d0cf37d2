package emulator

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// client is one connection the register function accepted. It is known to
// the server before the handshake's answer is sent, so that a push right
// after the client sees the connection open finds it; ws is set, and ready
// closed, once the handshake is done.
type client struct {
	s      *Server
	id     string
	ws     *websocket.Conn
	ready  chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	idle   *time.Timer
	closed sync.Once
	// byServer is set when the gateway side ended the connection (a
	// closing push, the idle timeout, shutdown, a failed invocation or push,
	// a protocol error): no cleanup then, unless Options.CleanupOnServerClose.
	byServer atomic.Bool
}

func newClient(s *Server, id string) *client {
	ctx, cancel := context.WithCancel(context.Background())
	return &client{s: s, id: id, ready: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// accepted records the finished handshake.
func (c *client) accepted(ws *websocket.Conn) {
	c.ws = ws
	close(c.ready)
}

// conn waits for the handshake to finish; false when the connection ended
// first or ctx did.
func (c *client) conn(ctx context.Context) (*websocket.Conn, bool) {
	select {
	case <-c.ready:
		return c.ws, true
	case <-c.ctx.Done():
		return nil, false
	case <-ctx.Done():
		return nil, false
	}
}

// serve reads the client's messages until it goes, then runs cleanup.
func (c *client) serve() {
	defer c.finish()
	if d := c.s.opts.IdleTimeout; d > 0 {
		c.idle = time.AfterFunc(d, func() { c.close(websocket.StatusGoingAway, "idle timeout") })
		defer c.idle.Stop()
	}
	for {
		typ, data, err := c.ws.Read(c.ctx)
		if err != nil {
			if !closedByClient(err) {
				c.byServer.Store(true)
			}
			c.s.log.Info("emulator: disconnected", "secConnectionID", c.id, "reason", closeReason(err),
				"byServer", c.byServer.Load())
			return
		}
		if c.idle != nil {
			c.idle.Reset(c.s.opts.IdleTimeout)
		}
		if c.s.fns.Transmission == nil {
			continue
		}
		m := scfws.Text(string(data))
		if typ == websocket.MessageBinary {
			m = scfws.Binary(data)
		}
		// a transmission event is shaped as a data push: the same encoder
		payload, _ := scfws.PushRequest{Action: scfws.ActionDataSend, ConnectionID: c.id, Message: m}.MarshalJSON()
		start := time.Now()
		// as in the cloud, the invocation does not end when the client goes
		_, err = c.s.invoke(context.Background(), "transmission", c.s.fns.Transmission, payload)
		c.s.logEvent(scfws.ActionDataSend, c.id, start, err, m.Data)
		if err != nil {
			c.drop() // as the gateway: no close frame
			return
		}
	}
}

func closeReason(err error) string {
	if code := websocket.CloseStatus(err); code != -1 {
		return "close " + code.String()
	}
	if errors.Is(err, context.Canceled) {
		return "closed by the gateway"
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
func (c *client) drop() {
	c.byServer.Store(true)
	if ws, ok := c.conn(context.Background()); ok {
		_ = ws.CloseNow()
	}
	c.cancel()
}

// close starts the close handshake from the gateway's side; serve's Read
// then returns.
func (c *client) close(code websocket.StatusCode, reason string) {
	c.byServer.Store(true)
	go func() {
		if ws, ok := c.conn(context.Background()); ok {
			_ = ws.Close(code, reason)
		}
		c.cancel()
	}()
}

// finish forgets the connection and invokes cleanup, once: for a close the
// client started, or for any with Options.CleanupOnServerClose.
func (c *client) finish() {
	c.closed.Do(func() {
		c.cancel()
		select {
		case <-c.ready:
			_ = c.ws.CloseNow()
		default: // the handshake failed
			c.byServer.Store(true)
		}
		c.s.remove(c.id)
		if !c.byServer.Load() || c.s.opts.CleanupOnServerClose {
			c.s.cleanup(c.id)
		}
		c.s.sessions.Done()
	})
}

// cleanup invokes the cleanup function for id.
func (s *Server) cleanup(id string) {
	if s.fns.Cleanup == nil {
		return
	}
	payload, _ := json.Marshal(scfwstest.NewCleanupEvent(id))
	start := time.Now()
	_, err := s.invoke(context.Background(), "cleanup", s.fns.Cleanup, payload)
	s.logEvent(scfws.ActionClosing, id, start, err, "")
}

func (s *Server) logEvent(a scfws.Action, id string, start time.Time, err error, data string) {
	if err == nil && !s.log.Enabled(context.Background(), slog.LevelInfo) {
		return // the hot path builds no attributes nobody reads
	}
	attrs := []any{"action", string(a), "secConnectionID", id, "latency", time.Since(start)}
	if s.opts.LogData && data != "" {
		attrs = append(attrs, "data", data)
	}
	if err != nil {
		s.log.Warn("emulator: invocation failed", append(attrs, "err", err)...)
		return
	}
	s.log.Info("emulator: event", attrs...)
}

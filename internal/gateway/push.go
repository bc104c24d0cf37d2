package gateway

import (
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/scfws/scfws-go/internal/wire"
)

const pushReadTimeout = 5 * time.Second

// Answer is the answer to one push: the gateways' table (internal/wire),
// and the push's connection ID and action, for the log.
type Answer struct {
	wire.Answer
	ID, Action string
}

// PushFrom reads a push body from r and delivers it as [Server.Push].
func (s *Server) PushFrom(r io.Reader) Answer {
	p, a := s.ReadPush(r)
	if a.ErrNo != 0 {
		return a
	}
	m, a := s.Message(p)
	if a.ErrNo != 0 {
		return a
	}
	a, _ = s.Queue(p.ConnectionID, m)
	return a
}

// ReadPush reads and decodes a push body from r, bounded by what a message
// of MaxMessageSize can take (each byte escaped to at most 6 in JSON;
// base64's 4/3 is less; and the object around it); a body it refuses has
// the answer's ErrNo ≠ 0.
func (s *Server) ReadPush(r io.Reader) (wire.Push, Answer) {
	raw, err := io.ReadAll(io.LimitReader(r, s.maxPushBody()+1))
	switch {
	case err != nil:
		return wire.Push{}, Answer{Answer: wire.Malformed}
	case int64(len(raw)) > s.maxPushBody():
		return wire.Push{}, Answer{Answer: wire.TooLarge}
	}
	p, err := wire.Decode(raw)
	if err != nil {
		return wire.Push{}, Answer{Answer: wire.Malformed}
	}
	return p, Answer{Answer: wire.Answer{Status: http.StatusOK}}
}

func (s *Server) maxPushBody() int64 { return s.opts.MaxMessageSize*6 + 4096 }

func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// a slow body cannot hold the endpoint
	_ = http.NewResponseController(w).SetReadDeadline(start.Add(pushReadTimeout))
	a := Answer{Answer: wire.Answer{Status: http.StatusMethodNotAllowed, ErrNo: wire.Malformed.ErrNo, ErrMsg: "malformed push: use POST"}}
	if r.Method == http.MethodPost {
		a = s.PushFrom(r.Body)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body())
	if a.ErrNo != 0 && !s.opts.KeepClientOnFailedPush {
		if c := s.lookup(a.ID); c != nil && a.ID != "" {
			c.drop() // as the gateway: after a non-200 answer, FIN to the client
			a.ErrMsg += " (client dropped)"
		}
	}
	s.logPush(r.Context(), a, start)
}

func (s *Server) logPush(ctx context.Context, a Answer, start time.Time) {
	if a.ErrNo == 0 && !s.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	attrs := []any{"action", a.Action, "secConnectionID", a.ID, "status", a.Status, "errNo", a.ErrNo,
		"latency", time.Since(start)}
	if a.ErrNo != 0 {
		s.log.Warn(s.opts.LogPrefix+": push failed", append(attrs, "errMsg", a.ErrMsg)...)
		return
	}
	s.log.Info(s.opts.LogPrefix+": push", attrs...)
}

// Outgoing is a message for a client, or a close, ready to queue: its
// bytes may be shared by many connections (they are never changed).
type Outgoing struct {
	Closing bool
	Binary  bool
	Data    []byte
}

// Message checks a push and returns what it queues; a push it refuses
// (bad base64, over MaxMessageSize) has the answer's ErrNo ≠ 0.
func (s *Server) Message(p wire.Push) (Outgoing, Answer) {
	a := Answer{ID: p.ConnectionID, Action: p.Action, Answer: wire.Answer{Status: http.StatusOK}}
	if p.Action == wire.ActionClosing {
		return Outgoing{Closing: true}, a
	}
	m := Outgoing{Data: []byte(p.Data)}
	if p.DataType == wire.DataBinary {
		var err error
		m.Binary = true
		if m.Data, err = base64.StdEncoding.DecodeString(p.Data); err != nil {
			a.Answer = wire.BadBinary
			return m, a
		}
	}
	if int64(len(m.Data)) > s.opts.MaxMessageSize {
		a.Answer = wire.TooLarge
		if s.opts.KeepClientOnFailedPush {
			a.Answer = wire.TooLargeKept
		}
	}
	return m, a
}

// Queue queues m for connection id: a message after those queued before
// it, or a close behind them. held is false when this server does not
// hold the connection (then the answer is not found).
func (s *Server) Queue(id string, m Outgoing) (a Answer, held bool) {
	a = Answer{ID: id, Action: wire.ActionDataSend}
	out := outgoing{typ: websocket.MessageText, data: m.Data}
	switch {
	case m.Closing:
		a.Action = wire.ActionClosing
		out = outgoing{code: websocket.StatusNormalClosure}
	case m.Binary:
		out.typ = websocket.MessageBinary
	}
	c := s.lookup(id)
	if c == nil {
		a.Answer = wire.NotFound
		return a, false
	}
	err := c.send(out)
	if err == errResuming {
		// a resume's claim is under way: the message belongs to it if it
		// succeeds, else to where the connection is kept
		t := time.NewTimer(parkTimeout)
		select {
		case <-c.rel.decided:
		case <-t.C:
		}
		t.Stop()
		if err = c.send(out); err == errResuming {
			err = errParked
		}
	}
	switch err {
	case nil:
		a.Status = http.StatusOK
	case errOverflow:
		a.Answer = wire.QueueFull
	case errParked:
		// detached (reliable mode): once parked, the caller takes it where
		// the connection is kept
		ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
		c.waitParked(ctx)
		cancel()
		a.Answer = wire.NotFound
		return a, false
	default:
		a.Answer = wire.NotFound
	}
	return a, true
}

// Cleanup invokes the cleanup function for connection id, as when it
// closes: for a reliable connection whose window ended.
func (s *Server) Cleanup(id string) { s.cleanup(id) }

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
func (s *Server) PushFrom(ctx context.Context, r io.Reader, forward bool) (Answer, error) {
	raw, err := io.ReadAll(io.LimitReader(r, s.maxPushBody()+1))
	if err != nil {
		return Answer{Answer: wire.Malformed}, nil
	}
	return s.Push(ctx, raw, forward)
}

func (s *Server) maxPushBody() int64 { return s.opts.MaxMessageSize*6 + 4096 }

func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// a slow body cannot hold the endpoint
	_ = http.NewResponseController(w).SetReadDeadline(start.Add(pushReadTimeout))
	a := Answer{Answer: wire.Answer{Status: http.StatusMethodNotAllowed, ErrNo: wire.Malformed.ErrNo, ErrMsg: "malformed push: use POST"}}
	if r.Method == http.MethodPost {
		a, _ = s.PushFrom(r.Context(), r.Body, false) // no Forward in the emulator
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

// Push delivers one push body (internal/wire), bounded by what a
// message of MaxMessageSize can take (each byte escaped to at most 6 in
// JSON; base64's 4/3 is less; and the object around it), to the
// connection it names: queued for a connection this server holds (a closing after the
// messages queued before it); with forward, handed to Options.Forward for
// one it does not. The error is Forward's: no answer.
func (s *Server) Push(ctx context.Context, raw []byte, forward bool) (Answer, error) {
	if int64(len(raw)) > s.maxPushBody() {
		return Answer{Answer: wire.TooLarge}, nil
	}
	p, err := wire.Decode(raw)
	if err != nil {
		return Answer{Answer: wire.Malformed}, nil
	}
	return s.Deliver(ctx, p, raw, forward)
}

// Deliver delivers p, as [Server.Push]; raw is its body when at hand (else
// it is encoded when forwarded).
func (s *Server) Deliver(ctx context.Context, p wire.Push, raw []byte, forward bool) (Answer, error) {
	a := Answer{ID: p.ConnectionID, Action: p.Action}
	m := outgoing{code: websocket.StatusNormalClosure}
	if p.Action != wire.ActionClosing {
		m = outgoing{typ: websocket.MessageText, data: []byte(p.Data)}
		if p.DataType == wire.DataBinary {
			m.typ = websocket.MessageBinary
			var err error
			if m.data, err = base64.StdEncoding.DecodeString(p.Data); err != nil {
				a.Answer = wire.BadBinary
				return a, nil
			}
		}
		if int64(len(m.data)) > s.opts.MaxMessageSize {
			a.Answer = wire.TooLarge
			return a, nil
		}
	}
	c := s.lookup(p.ConnectionID)
	if c == nil && forward && s.opts.Forward != nil {
		if raw == nil {
			var err error
			if raw, err = p.Marshal(); err != nil {
				a.Answer = wire.Malformed
				return a, nil
			}
		}
		delivered, err := s.opts.Forward(ctx, p.ConnectionID, raw)
		if err != nil {
			return a, err
		}
		if delivered {
			a.Status = http.StatusOK
			return a, nil
		}
	}
	if c == nil {
		a.Answer = wire.NotFound
		return a, nil
	}
	switch err := c.send(m); err {
	case nil:
		a.Status = http.StatusOK
	case errOverflow:
		a.Answer = wire.QueueFull
	default:
		a.Answer = wire.NotFound
	}
	return a, nil
}

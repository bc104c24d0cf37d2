package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/scfws"
)

// The push answers (see package emulator's documentation).
const (
	errNoNotFound   = 1001
	errNoMalformed  = 1002
	errNoBinary     = 1004
	errNoTooLarge   = 1005
	errNoDelivery   = 1006
	pushReadTimeout = 5 * time.Second
)

// OKBody is the push answer for success.
var OKBody = []byte(`{"errNo":0,"errMsg":"ok"}`)

// Answer is the answer to one push.
type Answer struct {
	Status int
	ErrNo  int
	ErrMsg string
	// ID and Action are the push's, for the log.
	ID, Action string
}

// Body is the answer's JSON body.
func (a Answer) Body() []byte {
	if a.ErrNo == 0 {
		return OKBody
	}
	b, _ := json.Marshal(scfws.Response{ErrNo: a.ErrNo, ErrMsg: a.ErrMsg})
	return b
}

// PushFrom reads a push body from r and delivers it as [Server.Push].
func (s *Server) PushFrom(ctx context.Context, r io.Reader, forward bool) (Answer, error) {
	raw, err := io.ReadAll(io.LimitReader(r, s.maxPushBody()+1))
	if err != nil {
		return Answer{Status: http.StatusBadRequest, ErrNo: errNoMalformed, ErrMsg: "malformed push"}, nil
	}
	return s.Push(ctx, raw, forward)
}

func (s *Server) maxPushBody() int64 { return s.opts.MaxMessageSize*6 + 4096 }

func (s *Server) servePush(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	// a slow body cannot hold the endpoint
	_ = http.NewResponseController(w).SetReadDeadline(start.Add(pushReadTimeout))
	a := Answer{Status: http.StatusMethodNotAllowed, ErrNo: errNoMalformed, ErrMsg: "malformed push: use POST"}
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

// Push delivers one push body (a scfws.PushRequest), bounded by what a
// message of MaxMessageSize can take (each byte escaped to at most 6 in
// JSON; base64's 4/3 is less; and the object around it), to the
// connection it names: queued for a connection this server holds (a closing after the
// messages queued before it); with forward, handed to Options.Forward for
// one it does not. The error is Forward's: no answer.
func (s *Server) Push(ctx context.Context, raw []byte, forward bool) (Answer, error) {
	if int64(len(raw)) > s.maxPushBody() {
		return Answer{Status: http.StatusRequestEntityTooLarge, ErrNo: errNoTooLarge, ErrMsg: "push too large"}, nil
	}
	var p scfws.PushRequest
	if err := p.UnmarshalJSON(raw); err != nil { // it validates the JSON itself
		return Answer{Status: http.StatusBadRequest, ErrNo: errNoMalformed, ErrMsg: "malformed push"}, nil
	}
	return s.Deliver(ctx, p, raw, forward)
}

// Deliver delivers p, as [Server.Push]; raw is its body when at hand (else
// it is encoded when forwarded).
func (s *Server) Deliver(ctx context.Context, p scfws.PushRequest, raw []byte, forward bool) (Answer, error) {
	a := Answer{ID: p.ConnectionID, Action: string(p.Action)}
	m := outgoing{code: websocket.StatusNormalClosure}
	if p.Action != scfws.ActionClosing {
		m = outgoing{typ: websocket.MessageText, data: []byte(p.Message.Data)}
		if p.Message.DataType == scfws.DataBinary {
			m.typ = websocket.MessageBinary
			var err error
			if m.data, err = base64.StdEncoding.DecodeString(p.Message.Data); err != nil {
				a.Status, a.ErrNo, a.ErrMsg = http.StatusBadRequest, errNoBinary, "invalid binary data"
				return a, nil
			}
		}
		if int64(len(m.data)) > s.opts.MaxMessageSize {
			a.Status, a.ErrNo, a.ErrMsg = http.StatusRequestEntityTooLarge, errNoTooLarge, "push too large"
			return a, nil
		}
	}
	c := s.lookup(p.ConnectionID)
	if c == nil && forward && s.opts.Forward != nil {
		if raw == nil {
			var err error
			if raw, err = p.MarshalJSON(); err != nil {
				a.Status, a.ErrNo, a.ErrMsg = http.StatusBadRequest, errNoMalformed, "malformed push"
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
		a.Status, a.ErrNo, a.ErrMsg = http.StatusNotFound, errNoNotFound, "connection not found"
		return a, nil
	}
	switch err := c.send(m); err {
	case nil:
		a.Status = http.StatusOK
	case errOverflow:
		a.Status, a.ErrNo, a.ErrMsg = http.StatusBadGateway, errNoDelivery, "delivery failed: send queue full"
	default:
		a.Status, a.ErrNo, a.ErrMsg = http.StatusNotFound, errNoNotFound, "connection not found"
	}
	return a, nil
}

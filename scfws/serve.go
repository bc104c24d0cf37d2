package scfws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/scfws/scfws-go/internal/wire"
)

// server is the one path from a payload to an answer, shared by the three
// adapters and the Router so that they cannot disagree.
type server struct {
	// serves is the one action an adapter serves; "" for the Router.
	serves       Action
	register     RegisterFunc
	transmission TransmissionFunc
	cleanup      CleanupFunc
	// opts is set (never nil) where register events are answered: the
	// register adapter and the Router; nil in the transmission and cleanup
	// adapters, which answer none.
	opts *RegisterOptions
}

var noOptions RegisterOptions

func (s *server) invoke(ctx context.Context, payload []byte) ([]byte, error) {
	w, role, err := decode(payload)
	if err == nil && s.serves != "" && role != s.serves {
		err = fmt.Errorf("%w: %q", ErrWrongAction, w.WebSocket.Action)
	}
	answerAs := s.serves
	if answerAs == "" {
		answerAs = role // "" when the event cannot be attributed: refuse it
	}
	if answerAs == ActionConnecting || answerAs == "" {
		if errors.Is(err, ErrMissingWebSocket) && w.RequestContext.rc == nil {
			err = ErrMissingRequestContext // as the usage document's function: requestContext first
		}
		if err != nil {
			return s.refuse(ctx, "", err, false), nil
		}
		return s.serveRegister(ctx, w), nil
	}
	if err != nil {
		return nil, err
	}
	return s.serveStream(ctx, w, role)
}

func (s *server) serveRegister(ctx context.Context, w *wireEvent) []byte {
	ev := w.register()
	id := ev.WebSocket.SecConnectionID
	switch {
	case ev.RequestContext == nil:
		return s.refuse(ctx, id, ErrMissingRequestContext, false)
	case id == "":
		return s.refuse(ctx, id, ErrMissingConnectionID, false)
	}
	if err := negotiate(ev, s.opts); err != nil {
		return s.refuse(ctx, id, err, false)
	}
	negotiated := ev.Negotiated // what fn does to ev cannot change the answer
	if s.register != nil {
		if err := safely(func() error { return s.register(ctx, ev) }); err != nil {
			return s.refuse(ctx, id, err, true)
		}
	}
	ok := Response{ErrNo: 0, ErrMsg: "ok", WebSocket: &RegisterWebSocket{
		Action:                 ActionConnecting,
		SecConnectionID:        id,
		SecWebSocketProtocol:   negotiated.Subprotocol,
		SecWebSocketExtensions: negotiated.Extensions,
	}}
	return ok.marshal()
}

// refuse answers the refusal err wraps, or ErrInternal. Reading err runs
// user code (Unwrap, As, Error methods), so it runs under recovery too.
// byUser tells an error of the RegisterFunc from a bad event.
func (s *server) refuse(ctx context.Context, id string, err error, byUser bool) []byte {
	answer := Response{ErrNo: ErrInternal.ErrNo, ErrMsg: ErrInternal.ErrMsg}
	_ = safely(func() error {
		if rej := findReject(err); rej != nil {
			answer.ErrMsg = rej.ErrMsg
			if rej.ErrNo != 0 {
				answer.ErrNo = rej.ErrNo
			}
		}
		return nil
	})
	if log := s.opts.Logger; log != nil {
		_ = safely(func() error {
			level, attrs := slog.LevelWarn, []slog.Attr{slog.Int("errNo", answer.ErrNo),
				slog.String("secConnectionID", id), slog.Any("err", err)}
			if pe, ok := err.(*PanicError); ok { // made by safely, never wrapped
				attrs = append(attrs, slog.String("stack", string(pe.Stack)))
			}
			switch {
			case answer.ErrNo == ErrInternal.ErrNo:
				level = slog.LevelError
			case byUser:
				level = slog.LevelDebug // the RegisterFunc's own refusal
			}
			log.LogAttrs(ctx, level, "scfws: register refused", attrs...)
			return nil
		})
	}
	return answer.marshal()
}

// maxUnwrap bounds the walk of an error's tree: an Unwrap that returns the
// error itself, or a cycle, must not hang the answer.
const maxUnwrap = 1000

// findReject is errors.As(err, &rej), depth first as errors.As, over at
// most maxUnwrap errors.
func findReject(err error) *RejectError {
	stack := []error{err}
	for n := 0; len(stack) > 0 && n < maxUnwrap; n++ {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		if r, ok := e.(*RejectError); ok {
			if r == nil {
				return nil
			}
			return r
		}
		var r *RejectError
		if x, ok := e.(interface{ As(any) bool }); ok && x.As(&r) {
			return r
		}
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			errs := u.Unwrap()
			for i := len(errs) - 1; i >= 0; i-- {
				stack = append(stack, errs[i])
			}
		}
	}
	return nil
}

func (s *server) serveStream(ctx context.Context, w *wireEvent, role Action) ([]byte, error) {
	id := w.WebSocket.SecConnectionID
	if id == "" {
		return nil, ErrMissingConnectionID
	}
	var err error
	switch {
	case role == ActionDataSend && s.transmission != nil:
		ev := w.transmission()
		if err = safely(func() error { return s.transmission(ctx, ev) }); err != nil {
			return nil, fmt.Errorf("scfws: transmission of connection %q: %w", id, err)
		}
	case role == ActionClosing && s.cleanup != nil:
		ev := w.cleanup()
		if err = safely(func() error { return s.cleanup(ctx, ev) }); err != nil {
			return nil, fmt.Errorf("scfws: cleanup of connection %q: %w", id, err)
		}
	}
	return append([]byte(nil), wire.OK...), nil // a copy: the caller owns the answer
}

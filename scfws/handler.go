package scfws

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
)

// RegisterFunc is your register function's business logic. It runs after the
// event was checked and negotiated (see [RegisterEvent.Negotiated]).
//
// Return nil to accept the connection. Return [Reject](errNo, errMsg) to refuse
// it with exactly that answer. Any other error, or a panic, refuses it with
// [ErrNoInternal] and the errMsg "internal error": the error text is logged
// (when a Logger is set) and never sent to the gateway.
type RegisterFunc func(ctx context.Context, ev *RegisterEvent) error

// TransmissionFunc is your transmission function's business logic, called
// for each message a client sends.
//
// A returned error or a panic becomes an invocation error, and on a failed
// invocation the gateway drops that client's connection (without a close
// frame). Return nil for anything the client should survive, such as a bad
// message you answered with a push.
type TransmissionFunc func(ctx context.Context, ev *TransmissionEvent) error

// CleanupFunc is your cleanup function's business logic, called when a client
// closed its connection. The gateway calls it on a best-effort basis: store
// connections with an expiry. A returned error or a panic becomes an
// invocation error (the connection is gone either way).
type CleanupFunc func(ctx context.Context, ev *CleanupEvent) error

// RegisterOptions configures negotiation in the register adapter. A nil
// *RegisterOptions means the zero value: no subprotocol, no extension.
type RegisterOptions struct {
	// Subprotocols are the subprotocols the server supports, in preference
	// order. The answer names the first one the client offered, or none.
	// Default: none, so the secWebSocketProtocol key is omitted.
	Subprotocols []string
	// RequireSubprotocol refuses with [ErrNoUnsupportedSubprotocol] when the client
	// offered subprotocols and none was chosen. A client that offered none is
	// still accepted. Default false.
	RequireSubprotocol bool
	// SelectSubprotocol, when set, replaces the choice by Subprotocols: it
	// gets the client's parsed offer (never empty) and returns the one to
	// answer, or "" for none. A value the client did not offer is never
	// sent: the connection is refused with [ErrNoInternal].
	SelectSubprotocol func(ev *RegisterEvent, offered []string) string
	// Extensions are the extensions to accept, e.g. "permessage-deflate".
	// Default: none, so the secWebSocketExtensions key is omitted (whether
	// the gateway implements any extension is not documented).
	Extensions []string
}

// RegisterHandler is the register adapter. It is safe for concurrent use.
type RegisterHandler struct {
	// Logger receives one line per refusal caused by an error or a panic in
	// the RegisterFunc, and per malformed event. Nil: no logging. Set it
	// before the first Invoke.
	Logger *slog.Logger
	fn     RegisterFunc
	opts   RegisterOptions
}

// NewRegisterHandler returns the register adapter around fn. A nil fn
// accepts every well-formed connection (after negotiation), like a Router
// whose Register is nil. opts may be nil.
func NewRegisterHandler(fn RegisterFunc, opts *RegisterOptions) *RegisterHandler {
	h := &RegisterHandler{fn: fn}
	if opts != nil {
		h.opts = *opts
	}
	return h
}

// Invoke implements scf-go-lib's cloudfunction.Handler. It never returns an
// error: every outcome, including a malformed event or a panic, is an answer
// with errNo (see the ErrNo constants).
func (h *RegisterHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	w, err := decodeWire(payload)
	if w == nil {
		logRefusal(h.Logger, ErrNoMalformedEvent, "", err)
		return marshalResponse(refusal(ErrNoMalformedEvent)), nil
	}
	return marshalResponse(serveRegister(ctx, w, h.fn, &h.opts, h.Logger)), nil
}

func serveRegister(ctx context.Context, w *wireEvent, fn RegisterFunc, opts *RegisterOptions, log *slog.Logger) *RegisterResponse {
	ev, err := w.register()
	if err != nil {
		errNo := errNoFor(err)
		logRefusal(log, errNo, "", err)
		return refusal(errNo)
	}
	id := ev.WebSocket.SecConnectionID
	if err := negotiate(ev, opts); err != nil {
		errNo := errNoFor(err)
		logRefusal(log, errNo, id, err)
		return refusal(errNo)
	}
	negotiated := ev.Negotiated // what fn does to ev cannot change the answer
	if fn != nil {
		if err := safely(func() error { return fn(ctx, ev) }); err != nil {
			if rej, ok := errors.AsType[*RejectError](err); ok {
				return &RegisterResponse{ErrNo: rej.ErrNo, ErrMsg: rej.ErrMsg}
			}
			logRefusal(log, ErrNoInternal, id, err)
			return refusal(ErrNoInternal)
		}
	}
	return &RegisterResponse{
		ErrNo:  ErrNoOK,
		ErrMsg: errMsgs[ErrNoOK],
		WebSocket: &RegisterResponseWebSocket{
			Action:                 ActionConnecting,
			SecConnectionID:        id,
			SecWebSocketProtocol:   negotiated.Subprotocol,
			SecWebSocketExtensions: negotiated.Extensions,
		},
	}
}

// negotiate fills ev.Negotiated from the client's offers and opts.
func negotiate(ev *RegisterEvent, opts *RegisterOptions) error {
	if offered := ev.Subprotocols(); len(offered) > 0 {
		var chosen string
		if opts.SelectSubprotocol != nil {
			chosen = opts.SelectSubprotocol(ev, offered)
			if chosen != "" && !slices.Contains(offered, chosen) {
				return fmt.Errorf("scfws: SelectSubprotocol chose %q, which the client did not offer (%q)",
					chosen, ev.WebSocket.SecWebSocketProtocol)
			}
		} else {
			chosen = SelectSubprotocol(offered, opts.Subprotocols)
		}
		if chosen == "" && opts.RequireSubprotocol {
			return fmt.Errorf("%w: offered %q, supported %q", ErrUnsupportedSubprotocol, offered, opts.Subprotocols)
		}
		ev.Negotiated.Subprotocol = chosen
	}
	if len(opts.Extensions) > 0 && ev.WebSocket.SecWebSocketExtensions != "" {
		ev.Negotiated.Extensions = NegotiateExtensions(ev.Extensions(), opts.Extensions)
	}
	return nil
}

func logRefusal(log *slog.Logger, errNo int, id string, err error) {
	if log == nil {
		return
	}
	attrs := []any{"errNo", errNo, "secConnectionID", id, "err", err}
	if pe, ok := errors.AsType[*PanicError](err); ok {
		attrs = append(attrs, "stack", string(pe.Stack))
	}
	log.Warn("scfws: register refused", attrs...)
}

// TransmissionHandler is the transmission adapter. It is safe for concurrent use.
type TransmissionHandler struct {
	// Logger receives one line per failed invocation. Nil: no logging.
	Logger *slog.Logger
	fn     TransmissionFunc
}

// NewTransmissionHandler returns the transmission adapter around fn. A nil
// fn accepts every message and does nothing with it.
func NewTransmissionHandler(fn TransmissionFunc) *TransmissionHandler {
	return &TransmissionHandler{fn: fn}
}

// Invoke implements scf-go-lib's cloudfunction.Handler. On success it
// answers {"errNo":0,"errMsg":"ok"} (the gateway ignores the body). A
// malformed event, a wrong action, an error from the TransmissionFunc or a
// panic in it is returned as the invocation error; the process never crashes.
func (h *TransmissionHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	w, err := decodeWire(payload)
	if err != nil {
		return nil, logFailure(h.Logger, ActionDataSend, err)
	}
	return serveTransmission(ctx, w, h.fn, h.Logger)
}

func serveTransmission(ctx context.Context, w *wireEvent, fn TransmissionFunc, log *slog.Logger) ([]byte, error) {
	ev, err := w.transmission()
	return serveStream(ctx, ActionDataSend, ev, err, fn, log)
}

// CleanupHandler is the cleanup adapter. It is safe for concurrent use.
type CleanupHandler struct {
	// Logger receives one line per failed invocation. Nil: no logging.
	Logger *slog.Logger
	fn     CleanupFunc
}

// NewCleanupHandler returns the cleanup adapter around fn. A nil fn does
// nothing and succeeds.
func NewCleanupHandler(fn CleanupFunc) *CleanupHandler {
	return &CleanupHandler{fn: fn}
}

// Invoke implements scf-go-lib's cloudfunction.Handler, with the same
// answers as [TransmissionHandler.Invoke].
func (h *CleanupHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	w, err := decodeWire(payload)
	if err != nil {
		return nil, logFailure(h.Logger, ActionClosing, err)
	}
	return serveCleanup(ctx, w, h.fn, h.Logger)
}

func serveCleanup(ctx context.Context, w *wireEvent, fn CleanupFunc, log *slog.Logger) ([]byte, error) {
	ev, err := w.cleanup()
	return serveStream(ctx, ActionClosing, ev, err, fn, log)
}

// serveStream is the transmission and cleanup answer: decoding errors, user
// errors and panics become the invocation error, success the ok body.
func serveStream[E interface{ ConnectionID() string }](ctx context.Context, a Action, ev E, err error,
	fn func(context.Context, E) error, log *slog.Logger) ([]byte, error) {
	if err != nil {
		return nil, logFailure(log, a, err)
	}
	if fn != nil {
		if err := safely(func() error { return fn(ctx, ev) }); err != nil {
			role := "transmission"
			if a == ActionClosing {
				role = "cleanup"
			}
			return nil, logFailure(log, a, fmt.Errorf("scfws: %s of connection %q: %w", role, ev.ConnectionID(), err))
		}
	}
	return []byte(okBody), nil
}

func logFailure(log *slog.Logger, a Action, err error) error {
	if log != nil {
		attrs := []any{"action", string(a), "err", err}
		if pe, ok := errors.AsType[*PanicError](err); ok {
			attrs = append(attrs, "stack", string(pe.Stack))
		}
		log.Error("scfws: invocation failed", attrs...)
	}
	return err
}

package scfws

import (
	"context"
	"log/slog"
)

// RegisterFunc is your register function's business logic. It runs after the
// event was checked and negotiated (see [RegisterEvent.Negotiated]).
//
// Return nil to accept the connection. Return an error wrapping a
// [*RejectError] (for example [Reject](errNo, errMsg)) to refuse it with
// exactly that answer. Any other error, or a panic, refuses it with
// [ErrInternal]: the error is logged (when RegisterOptions.Logger is set) and
// never sent to the gateway.
type RegisterFunc func(ctx context.Context, ev *RegisterEvent) error

// TransmissionFunc is your transmission function's business logic, called
// for each message a client sends.
//
// A returned error or a panic becomes the invocation error, and on a failed
// invocation the gateway drops that client's connection (without a close
// frame). Return nil for anything the client should survive, such as a bad
// message you answered with a push.
type TransmissionFunc func(ctx context.Context, ev *TransmissionEvent) error

// CleanupFunc is your cleanup function's business logic, called when a client
// closed its connection. The gateway calls it on a best-effort basis: store
// connections with an expiry. A returned error or a panic becomes the
// invocation error (the connection is gone either way).
type CleanupFunc func(ctx context.Context, ev *CleanupEvent) error

// RegisterOptions configures the register adapter. A nil *RegisterOptions
// means the zero value: no subprotocol, no extension, no logging.
type RegisterOptions struct {
	// Subprotocols are the subprotocols the server supports, in preference
	// order. The answer names the first one the client offered, or none.
	// Default: none, so the secWebSocketProtocol key is omitted.
	Subprotocols []string
	// RequireSubprotocol refuses with [ErrUnsupportedSubprotocol] when the
	// client offered subprotocols and none was chosen. A client that offered
	// none is still accepted. Default false.
	RequireSubprotocol bool
	// Extensions are the extensions to accept, e.g. "permessage-deflate",
	// validated per RFC 7692. Default: none, so the secWebSocketExtensions
	// key is omitted (whether the gateway implements any extension is not
	// documented).
	Extensions []string
	// Logger receives one line per refusal: a warning for a bad event, an
	// error (with the stack of a panic) for [ErrInternal], a debug line for
	// your own Reject. Nil: no logging.
	Logger *slog.Logger
}

// RegisterHandler is the register adapter. It is safe for concurrent use.
type RegisterHandler struct{ s server }

// NewRegisterHandler returns the register adapter around fn. A nil fn
// accepts every well-formed connection (after negotiation), like a Router
// whose Register is nil. opts may be nil; it is copied.
func NewRegisterHandler(fn RegisterFunc, opts *RegisterOptions) *RegisterHandler {
	o := new(RegisterOptions)
	if opts != nil {
		*o = *opts
	}
	return &RegisterHandler{server{serves: ActionConnecting, register: fn, opts: o}}
}

// Invoke implements scf-go-lib's cloudfunction.Handler. It never returns an
// error: every outcome, a malformed event or a panic included, is an answer
// with an errNo (see [ErrMalformedEvent] and the other refusals).
func (h *RegisterHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return h.s.invoke(ctx, payload)
}

// TransmissionHandler is the transmission adapter. It is safe for concurrent use.
type TransmissionHandler struct{ s server }

// NewTransmissionHandler returns the transmission adapter around fn. A nil
// fn accepts every message and does nothing with it.
func NewTransmissionHandler(fn TransmissionFunc) *TransmissionHandler {
	return &TransmissionHandler{server{serves: ActionDataSend, transmission: fn}}
}

// Invoke implements scf-go-lib's cloudfunction.Handler. On success it
// answers {"errNo":0,"errMsg":"ok"} (the gateway ignores the body). A bad
// event (wrapping [ErrMalformedEvent], [ErrMissingWebSocket],
// [ErrWrongAction] or [ErrMissingConnectionID]), an error from the
// TransmissionFunc or a panic in it ([*PanicError]) is the invocation error;
// the process never crashes.
func (h *TransmissionHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return h.s.invoke(ctx, payload)
}

// CleanupHandler is the cleanup adapter. It is safe for concurrent use.
type CleanupHandler struct{ s server }

// NewCleanupHandler returns the cleanup adapter around fn. A nil fn does
// nothing and succeeds.
func NewCleanupHandler(fn CleanupFunc) *CleanupHandler {
	return &CleanupHandler{server{serves: ActionClosing, cleanup: fn}}
}

// Invoke implements scf-go-lib's cloudfunction.Handler, with the answers of
// [TransmissionHandler.Invoke].
func (h *CleanupHandler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return h.s.invoke(ctx, payload)
}

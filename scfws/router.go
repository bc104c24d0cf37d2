package scfws

import "context"

// Router is one function deployed as all three (register, transmission and
// cleanup): it decodes the payload once and dispatches on websocket.action,
// answering exactly as the adapter of that action would. The zero Router is
// usable. A Router is safe for concurrent use; do not change its fields once
// it serves.
//
// A nil func answers as the adapter with a nil func does: a nil Register
// accepts every well-formed connection (after negotiation), a nil
// Transmission or Cleanup does nothing and succeeds.
//
// An event the Router cannot attribute to a function (not JSON, no websocket
// object, an unknown action) is answered with the register refusal for it
// ([ErrMalformedEvent], [ErrMissingWebSocket], [ErrWrongAction]) and no
// invocation error: a refusal is the one answer that is right whichever
// function the gateway meant to call, and Tencent's template answers errNo 102
// in all three functions.
type Router struct {
	// Register serves "connecting"; nil accepts every well-formed connection.
	Register RegisterFunc
	// Transmission serves "data send" and "data recv"; nil drops messages.
	Transmission TransmissionFunc
	// Cleanup serves "closing"; nil does nothing.
	Cleanup CleanupFunc
	// RegisterOptions configures negotiation and the logging of refusals;
	// nil means none.
	RegisterOptions *RegisterOptions
}

// Invoke implements scf-go-lib's cloudfunction.Handler.
func (r *Router) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	s := server{register: r.Register, transmission: r.Transmission, cleanup: r.Cleanup, opts: r.RegisterOptions}
	if s.opts == nil {
		s.opts = &noOptions
	}
	return s.invoke(ctx, payload)
}

package scfws

import (
	"context"
	"fmt"
	"log/slog"
)

// Router is one function deployed as all three (register, transmission and
// cleanup): it decodes the payload once and dispatches on websocket.action.
// The zero Router is usable. A Router is safe for concurrent use; do not
// change its fields once it serves.
//
// A nil func answers as the adapter with a nil func does: a nil Register
// accepts every well-formed connection (after negotiation), a nil
// Transmission or Cleanup does nothing and succeeds.
//
// An event the Router cannot attribute to a function (not JSON, no websocket
// object, or an unknown action) is answered with the register refusal for
// it ([ErrNoMalformedEvent], [ErrNoMissingWebSocket], [ErrNoWrongAction]) and
// no invocation error: a refusal is the one answer that is right whichever
// function the gateway meant to call, and it matches Tencent's template, which
// answers errNo 102 in all three functions. Once the action is known, the
// event gets exactly the answer of that action's adapter.
type Router struct {
	// Register serves "connecting"; nil accepts every well-formed connection.
	Register RegisterFunc
	// Transmission serves "data send" and "data recv"; nil drops messages.
	Transmission TransmissionFunc
	// Cleanup serves "closing"; nil does nothing.
	Cleanup CleanupFunc
	// RegisterOptions configures negotiation; nil means none.
	RegisterOptions *RegisterOptions
	// Logger is used as the adapters use theirs. Nil: no logging.
	Logger *slog.Logger
}

// Invoke implements scf-go-lib's cloudfunction.Handler.
func (r *Router) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	w, err := decodeWire(payload)
	if err != nil {
		errNo := errNoFor(err)
		logRefusal(r.Logger, errNo, "", err)
		return marshalResponse(refusal(errNo)), nil
	}
	switch w.WebSocket.Action {
	case ActionConnecting:
		var opts RegisterOptions
		if r.RegisterOptions != nil {
			opts = *r.RegisterOptions
		}
		return marshalResponse(serveRegister(ctx, w, r.Register, &opts, r.Logger)), nil
	case ActionDataSend, ActionDataRecv:
		return serveTransmission(ctx, w, r.Transmission, r.Logger)
	case ActionClosing:
		return serveCleanup(ctx, w, r.Cleanup, r.Logger)
	}
	logRefusal(r.Logger, ErrNoWrongAction, w.WebSocket.SecConnectionID,
		fmt.Errorf("%w: %q", ErrWrongAction, w.WebSocket.Action))
	return marshalResponse(refusal(ErrNoWrongAction)), nil
}

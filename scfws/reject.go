package scfws

import (
	"fmt"
	"runtime/debug"
)

// The errNo values of Tencent's own template, which the register adapter
// answers with too.
const (
	// ErrNoMissingRequestContext: the event has no requestContext.
	ErrNoMissingRequestContext = 101
	// ErrNoMissingWebSocket: the event has no websocket object.
	ErrNoMissingWebSocket = 102
)

// The refusals, each defined once: the register adapter answers exactly the
// ErrNo and ErrMsg of the one an error wraps, and every error this package
// returns for a bad event wraps one of them (test with [errors.Is]). The
// transmission and cleanup adapters return them as the invocation error. No
// ErrMsg reveals anything internal.
var (
	// ErrMissingRequestContext: a register event without requestContext.
	ErrMissingRequestContext = &RejectError{ErrNo: ErrNoMissingRequestContext, ErrMsg: "not found request context"}
	// ErrMissingWebSocket: an event without a websocket object.
	ErrMissingWebSocket = &RejectError{ErrNo: ErrNoMissingWebSocket, ErrMsg: "not found websocket"}
	// ErrMalformedEvent: the payload is not a JSON object of the event's shape.
	ErrMalformedEvent = &RejectError{ErrNo: 103, ErrMsg: "malformed event"}
	// ErrWrongAction: websocket.action is not one the handler serves.
	ErrWrongAction = &RejectError{ErrNo: 104, ErrMsg: "unexpected action"}
	// ErrMissingConnectionID: websocket.secConnectionID is empty.
	ErrMissingConnectionID = &RejectError{ErrNo: 105, ErrMsg: "not found secConnectionID"}
	// ErrUnsupportedSubprotocol: [RegisterOptions].RequireSubprotocol is set,
	// the client offered subprotocols and none is supported.
	ErrUnsupportedSubprotocol = &RejectError{ErrNo: 106, ErrMsg: "no supported subprotocol"}
	// ErrInternal: the RegisterFunc returned an error that wraps no
	// *RejectError, or panicked. The error itself is logged (when
	// RegisterOptions.Logger is set), never sent.
	ErrInternal = &RejectError{ErrNo: 500, ErrMsg: "internal error"}
)

// RejectError is a refusal of a connection: the register adapter answers
// exactly its ErrNo and ErrMsg when a RegisterFunc returns an error that
// wraps one. ErrNo 0 would accept: a RejectError with ErrNo 0 (or a nil
// *RejectError) refuses with 500 instead.
type RejectError struct {
	// ErrNo is the answer's errNo.
	ErrNo int
	// ErrMsg is the answer's errMsg, sent to the gateway as it is.
	ErrMsg string
}

// Error describes the refusal.
func (e *RejectError) Error() string {
	return fmt.Sprintf("scfws: errNo %d: %s", e.ErrNo, e.ErrMsg)
}

// Reject returns an error that a [RegisterFunc] returns to refuse the
// connection with that errNo and errMsg, sent to the gateway as they are
// (errNo 0 refuses with 500 and errMsg).
func Reject(errNo int, errMsg string) error {
	return &RejectError{ErrNo: errNo, ErrMsg: errMsg}
}

// PanicError is the error a recovered panic in user code becomes: the
// register adapter refuses with [ErrInternal], the other adapters return it as
// the invocation error. It unwraps to the panic value when that is an error.
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

// Error describes the panic value.
func (e *PanicError) Error() string { return fmt.Sprintf("scfws: panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error, else nil.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// safely runs fn and turns a panic into a *PanicError.
func safely(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	return fn()
}

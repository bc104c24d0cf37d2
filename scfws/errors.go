package scfws

import (
	"errors"
	"fmt"
	"runtime/debug"
)

// The errNo values the register adapter answers with. 101 and 102 are the
// answers of Tencent's own template; the others are this package's choice.
// Every refusal carries a fixed errMsg that reveals nothing internal.
const (
	// ErrNoOK accepts the connection (errMsg "ok").
	ErrNoOK = 0
	// ErrNoMissingRequestContext: the event has no requestContext
	// (errMsg "not found request context").
	ErrNoMissingRequestContext = 101
	// ErrNoMissingWebSocket: the event has no websocket object
	// (errMsg "not found websocket").
	ErrNoMissingWebSocket = 102
	// ErrNoMalformedEvent: the payload is not a JSON event object of the
	// expected shape (errMsg "malformed event").
	ErrNoMalformedEvent = 103
	// ErrNoWrongAction: websocket.action is not "connecting"
	// (errMsg "unexpected action").
	ErrNoWrongAction = 104
	// ErrNoMissingConnectionID: websocket.secConnectionID is empty
	// (errMsg "not found secConnectionID").
	ErrNoMissingConnectionID = 105
	// ErrNoUnsupportedSubprotocol: RegisterOptions.RequireSubprotocol is set, the client
	// offered subprotocols and none is supported (errMsg "no supported subprotocol").
	ErrNoUnsupportedSubprotocol = 106
	// ErrNoInternal: the RegisterFunc returned an error that is not a
	// [Reject], or panicked (errMsg "internal error"). The error itself is
	// logged (when a Logger is set), never sent.
	ErrNoInternal = 500
)

var errMsgs = map[int]string{
	ErrNoOK:                     "ok",
	ErrNoMissingRequestContext:  "not found request context",
	ErrNoMissingWebSocket:       "not found websocket",
	ErrNoMalformedEvent:         "malformed event",
	ErrNoWrongAction:            "unexpected action",
	ErrNoMissingConnectionID:    "not found secConnectionID",
	ErrNoUnsupportedSubprotocol: "no supported subprotocol",
	ErrNoInternal:               "internal error",
}

// Sentinel errors. Errors from this package wrap one of them (test with
// [errors.Is]) and add what happened once.
var (
	// ErrMalformedEvent: the payload is not JSON of the event's shape.
	ErrMalformedEvent = errors.New("scfws: malformed event")
	// ErrMissingRequestContext: a register event without requestContext.
	ErrMissingRequestContext = errors.New("scfws: not found request context")
	// ErrMissingWebSocket: an event without a websocket object.
	ErrMissingWebSocket = errors.New("scfws: not found websocket")
	// ErrWrongAction: websocket.action is not the one the handler serves.
	ErrWrongAction = errors.New("scfws: unexpected action")
	// ErrMissingConnectionID: websocket.secConnectionID is empty.
	ErrMissingConnectionID = errors.New("scfws: not found secConnectionID")
	// ErrUnsupportedSubprotocol: a subprotocol was required and none matched.
	ErrUnsupportedSubprotocol = errors.New("scfws: no supported subprotocol")
	// ErrInvalidData: a message's data is not what its dataType promises,
	// or not the JSON the caller expected.
	ErrInvalidData = errors.New("scfws: invalid message data")
	// ErrPanic: user code panicked; the error is a [*PanicError].
	ErrPanic = errors.New("scfws: panic in handler")
)

// errNoFor maps a decoding sentinel to the register answer's errNo.
func errNoFor(err error) int {
	switch {
	case errors.Is(err, ErrMissingRequestContext):
		return ErrNoMissingRequestContext
	case errors.Is(err, ErrMissingWebSocket):
		return ErrNoMissingWebSocket
	case errors.Is(err, ErrMalformedEvent):
		return ErrNoMalformedEvent
	case errors.Is(err, ErrWrongAction):
		return ErrNoWrongAction
	case errors.Is(err, ErrMissingConnectionID):
		return ErrNoMissingConnectionID
	case errors.Is(err, ErrUnsupportedSubprotocol):
		return ErrNoUnsupportedSubprotocol
	}
	return ErrNoInternal
}

// RejectError is the error [Reject] returns. The register adapter answers
// with exactly its ErrNo and ErrMsg.
type RejectError struct {
	ErrNo  int
	ErrMsg string
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("scfws: connection rejected: errNo %d: %s", e.ErrNo, e.ErrMsg)
}

// Reject returns an error that a [RegisterFunc] returns to refuse the
// connection with that errNo and errMsg, sent to the gateway as they are.
// errNo 0 would accept, so Reject(0, msg) refuses with [ErrNoInternal] and msg.
func Reject(errNo int, errMsg string) error {
	if errNo == ErrNoOK {
		errNo = ErrNoInternal
	}
	return &RejectError{ErrNo: errNo, ErrMsg: errMsg}
}

// PanicError is the error a recovered panic in user code becomes. It wraps
// [ErrPanic].
type PanicError struct {
	// Value is what was passed to panic.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("scfws: panic in handler: %v", e.Value) }

// Unwrap returns ErrPanic, or the panic value when it is an error, and ErrPanic.
func (e *PanicError) Unwrap() []error {
	if err, ok := e.Value.(error); ok {
		return []error{ErrPanic, err}
	}
	return []error{ErrPanic}
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

package scfws

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"
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
	// ErrNo is the answer's errNo, never 0.
	ErrNo int
	// ErrMsg is the answer's errMsg, sent to the gateway as it is.
	ErrMsg string
}

// Error describes the refusal.
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

// Error describes the panic value.
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

// Push sentinels: a *PushError wraps exactly one of them (or the caller's
// context.Canceled), so callers branch with [errors.Is].
var (
	// ErrEmptyConnectionID: a push to "" is refused before any request.
	ErrEmptyConnectionID = errors.New("scfws: empty connection ID")
	// ErrPushRefused: the gateway answered and refused: a non-2xx status
	// other than the transient ones, or a 2xx answer with errNo ≠ 0. Per
	// Tencent, the gateway then drops that client; retrying cannot help.
	ErrPushRefused = errors.New("scfws: push refused")
	// ErrPushUnavailable: a transient failure (a transport error, or HTTP
	// 429, 502, 503, 504) that persisted through the retries.
	ErrPushUnavailable = errors.New("scfws: push gateway unavailable")
	// ErrPushTimeout: the ctx deadline passed, or the last attempt exceeded
	// PushOptions.Timeout. The gateway may still have delivered the push.
	ErrPushTimeout = errors.New("scfws: push timed out")
	// ErrPushBadAnswer: a 2xx answer whose body is not JSON (something other
	// than the gateway answered). The push may or may not have been delivered.
	ErrPushBadAnswer = errors.New("scfws: push answer not understood")
)

// PushError is a failed push. Use [errors.As] to read its fields and
// [errors.Is] with the push sentinels to learn its kind.
type PushError struct {
	// ConnectionID is the connection pushed to.
	ConnectionID string
	// StatusCode is the last HTTP status, 0 when no response came.
	StatusCode int
	// ErrNo and ErrMsg are from the gateway's JSON answer, when it had one.
	ErrNo int
	// ErrMsg is the gateway's errMsg, "" without a JSON answer.
	ErrMsg string
	// Body is the start of the raw answer (at most 512 bytes).
	Body string
	// Attempts is how many requests were made.
	Attempts int
	// Err is the cause; it wraps one of the push sentinels.
	Err error

	transient  bool
	retryAfter time.Duration
}

// Error names the connection, the kind of failure and the gateway's errMsg.
func (e *PushError) Error() string {
	msg := fmt.Sprintf("scfws: push to %q: %v", e.ConnectionID, e.Err)
	if e.ErrMsg != "" {
		msg += fmt.Sprintf(" (errMsg %q)", e.ErrMsg)
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return msg
}

// Unwrap returns Err.
func (e *PushError) Unwrap() error { return e.Err }

// Transient reports whether the failure was of the retried kind (the gateway
// was unavailable or slow) rather than a refusal of this connection.
func (e *PushError) Transient() bool { return e.transient }

// BroadcastError is what Broadcast returns when some pushes failed. Failed
// maps each failed connection ID to its error (a *PushError); IDs never
// attempted because ctx ended are in Failed too.
type BroadcastError struct {
	// Failed maps each failed connection ID to its error.
	Failed map[string]error
	// Sent is how many distinct connections the push reached.
	Sent int
}

// Error counts the failures.
func (e *BroadcastError) Error() string {
	return fmt.Sprintf("scfws: broadcast: %d of %d pushes failed", len(e.Failed), len(e.Failed)+e.Sent)
}

// Unwrap returns the failed pushes' errors, so that errors.Is(err,
// ErrPushRefused) tells whether any push was refused.
func (e *BroadcastError) Unwrap() []error {
	out := make([]error, 0, len(e.Failed))
	for _, err := range e.Failed {
		out = append(out, err)
	}
	return out
}

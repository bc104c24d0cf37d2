package scfws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	"github.com/scfws/scfws-go/internal/wire"
)

// Push sentinels: a *PushError wraps exactly one of them, or the caller's
// context.Canceled, so callers branch with [errors.Is].
var (
	// ErrEmptyConnectionID: a push to "" fails before any request.
	ErrEmptyConnectionID = errors.New("scfws: empty connection ID")
	// ErrPushRefused: the gateway answered, and not with success (HTTP 200
	// and errNo 0): any other status, a redirect, errNo ≠ 0, or a body that is
	// not its JSON answer — but for ErrPushTooLarge's answer. Per Tencent's
	// document the gateway has then dropped that client: the push was not
	// delivered, and never will be; the connection is gone.
	ErrPushRefused = errors.New("scfws: push refused")
	// ErrPushUnavailable: no answer came. Either the gateway could not be
	// reached at all (retried while the deadline allowed, then given up:
	// not delivered), or the connection broke after the push was sent, the
	// answer missing or cut short (not resent: it may have been delivered).
	ErrPushUnavailable = errors.New("scfws: push gateway unavailable")
	// ErrPushTooLarge: the gateway refused the message as larger than it
	// takes and kept the client (package host: over MaxMessageSize,
	// answered HTTP 413 with errNo 1007). The caller's error, not the
	// connection's: it is still open, and a hub prunes nothing for it. (The
	// emulator, as the legacy gateway, drops a client after any answer but
	// success: its 413, errNo 1005, is ErrPushRefused.)
	ErrPushTooLarge = errors.New("scfws: push too large")
	// ErrPushTimeout: the ctx deadline or PushOptions.Timeout passed before
	// the whole answer came. The push may have been delivered; it is not
	// resent.
	ErrPushTimeout = errors.New("scfws: push timed out")
)

// PushError is a failed push. Use [errors.As] to read its fields and
// [errors.Is] with the push sentinels to learn its kind.
type PushError struct {
	// ConnectionID is the connection pushed to.
	ConnectionID string
	// StatusCode is the HTTP status of the answer, 0 when none came.
	StatusCode int
	// ErrNo is the errNo of the gateway's JSON answer, 0 without one.
	ErrNo int
	// ErrMsg is the errMsg of the gateway's JSON answer, "" without one.
	ErrMsg string
	// Body is the start of the raw answer: at most 512 bytes of it, cut
	// before a character that would not fit, then "…" when it was longer.
	Body string
	// Err is the cause; it wraps one of the push sentinels.
	Err error
}

// Error names the connection, the kind of failure and the gateway's errMsg.
func (e *PushError) Error() string {
	msg := fmt.Sprintf("scfws: push to %q: %v", e.ConnectionID, e.Err)
	if e.ErrMsg != "" {
		msg += fmt.Sprintf(" (errMsg %q)", e.ErrMsg)
	}
	return msg
}

// Unwrap returns Err.
func (e *PushError) Unwrap() error { return e.Err }

const (
	maxAnswerBytes = 64 << 10
	maxBodyExcerpt = 512
)

// classify turns a whole answer into nil (success: HTTP 200 and a JSON
// object whose errNo is 0) or a *PushError wrapping ErrPushRefused (or
// ErrPushTooLarge for the host's answer to a message over its size).
func classify(connectionID string, status int, answer []byte) *PushError {
	trimmed := bytes.TrimSpace(answer)
	if status == http.StatusOK && bytes.Equal(trimmed, wire.OK) {
		return nil
	}
	pe := &PushError{ConnectionID: connectionID, StatusCode: status, Body: excerpt(answer)}
	var a struct {
		ErrNo  *int   `json:"errNo"`
		ErrMsg string `json:"errMsg"`
	}
	jsonErr := json.Unmarshal(trimmed, &a)
	if jsonErr == nil && a.ErrNo != nil {
		pe.ErrNo, pe.ErrMsg = *a.ErrNo, a.ErrMsg
	}
	switch {
	case status == wire.TooLargeKept.Status && pe.ErrNo == wire.TooLargeKept.ErrNo:
		pe.Err = fmt.Errorf("%w: HTTP %d, errNo %d", ErrPushTooLarge, status, pe.ErrNo)
	case status != http.StatusOK:
		pe.Err = fmt.Errorf("%w: HTTP %d", ErrPushRefused, status)
	case jsonErr != nil || a.ErrNo == nil:
		pe.Err = fmt.Errorf("%w: HTTP 200 without the gateway's JSON answer", ErrPushRefused)
	case pe.ErrNo != 0:
		pe.Err = fmt.Errorf("%w: errNo %d", ErrPushRefused, pe.ErrNo)
	default:
		return nil
	}
	return pe
}

func excerpt(b []byte) string {
	if len(b) <= maxBodyExcerpt {
		return string(b)
	}
	cut := maxBodyExcerpt
	for cut > maxBodyExcerpt-utf8.UTFMax && !utf8.RuneStart(b[cut]) {
		cut-- // not in the middle of a character
	}
	return string(b[:cut]) + "…"
}

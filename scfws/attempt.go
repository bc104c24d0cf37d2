package scfws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"github.com/scfws/scfws-go/internal/wire"
)

// encodedPush is a push body without its connection ID (internal/wire),
// encoded once for a Broadcast, with the message as given (for an
// in-process gateway and the log).
type encodedPush struct {
	wire.Encoded
	msg Message
}

func encodePush(a Action, m Message) (encodedPush, error) {
	e, err := wire.Encode(string(a), string(m.DataType), m.Data)
	if err != nil {
		return encodedPush{}, fmt.Errorf("scfws: %w", err)
	}
	return encodedPush{Encoded: e, msg: m}, nil
}

// push sends one body, retrying only what never reached the gateway.
func (c *PushClient) push(ctx context.Context, connectionID string, enc encodedPush) error {
	if connectionID == "" {
		return &PushError{Err: ErrEmptyConnectionID}
	}
	start := time.Now()
	ctx, cancel, pushURL, err := c.begin(ctx)
	if err != nil {
		perr := &PushError{ConnectionID: connectionID, Err: err}
		c.log(ctx, connectionID, enc, 0, perr, 0, time.Since(start))
		return perr
	}
	defer cancel()
	var body []byte
	if c.direct == nil {
		body = enc.Body(make([]byte, 0, enc.Size(len(connectionID))), connectionID)
	}
	attempts, status := 0, 0
	var perr *PushError
	for {
		attempts++
		var retry bool
		if c.direct != nil { // a gateway in this process (package host): no body, no HTTP request
			status, perr, retry = c.deliver(ctx, pushURL, connectionID, enc)
		} else {
			status, perr, retry = c.attempt(ctx, pushURL, connectionID, body)
		}
		if !retry || attempts > dialRetries || !wait(ctx, dialBackoff<<(attempts-1)) {
			break
		}
	}
	c.log(ctx, connectionID, enc, status, perr, attempts, time.Since(start))
	if perr == nil {
		return nil
	}
	return perr
}

// begin finds the push URL and bounds ctx by PushOptions.Timeout (the
// caller's deadline when it is sooner); cancel releases it. The error,
// when no URL is known, wraps ErrPushUnavailable.
func (c *PushClient) begin(ctx context.Context) (_ context.Context, cancel context.CancelFunc, pushURL string, err error) {
	if pushURL, err = c.resolve(ctx); err != nil {
		return ctx, func() {}, "", fmt.Errorf("%w: %w", ErrPushUnavailable, err)
	}
	if d, ok := ctx.Deadline(); ok && time.Until(d) <= c.opts.Timeout {
		return ctx, func() {}, pushURL, nil
	}
	ctx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
	return ctx, cancel, pushURL, nil
}

// attempt makes one request and classifies its outcome; retry is set only
// when the request provably never left (the gateway could not be dialled).
func (c *PushClient) attempt(ctx context.Context, pushURL, connectionID string, body []byte) (int, *PushError, bool) {
	// a reader, not the []byte, so that resty does not copy the body
	resp, err := c.rc.R().SetContext(ctx).SetBody(bytes.NewReader(body)).SetDoNotParseResponse(true).Post(pushURL)
	if err != nil {
		return 0, transportError(ctx, connectionID, err), isDialFailure(err) && ctx.Err() == nil
	}
	raw := resp.RawBody()
	buf := c.answers.Get().(*bytes.Buffer)
	defer c.answers.Put(buf)
	buf.Reset()
	lr := &io.LimitedReader{R: raw, N: maxAnswerBytes}
	_, rerr := buf.ReadFrom(lr)
	lr.N = 4 * maxAnswerBytes
	_, _ = io.Copy(io.Discard, lr) // let the connection be reused
	_ = raw.Close()
	status := resp.StatusCode()
	if rerr != nil && status == http.StatusOK { // the success status, but not the whole answer: no answer
		pe := transportError(ctx, connectionID, fmt.Errorf("HTTP 200, reading the answer: %w", rerr))
		pe.StatusCode, pe.Body = status, excerpt(buf.Bytes())
		return status, pe, false
	}
	return status, classify(connectionID, status, buf.Bytes()), false
}

// deliver hands one push to the in-process gateway, with attempt's answers.
func (c *PushClient) deliver(ctx context.Context, pushURL, connectionID string, enc encodedPush) (int, *PushError, bool) {
	var (
		status int
		perr   *PushError
		retry  bool
	)
	c.direct.DeliverPush(ctx, pushURL, []string{connectionID}, enc.Closing, string(enc.msg.DataType), enc.msg.Data,
		func(id string, s int, answer []byte, err error) {
			status = s
			if err != nil {
				perr, retry = transportError(ctx, id, err), isDialFailure(err) && ctx.Err() == nil
				return
			}
			perr = classify(id, s, answer)
		})
	return status, perr, retry
}

// transportError is a request that got no answer.
func transportError(ctx context.Context, connectionID string, err error) *PushError {
	pe := &PushError{ConnectionID: connectionID}
	var ne net.Error
	switch {
	case errors.Is(ctx.Err(), context.Canceled):
		pe.Err = fmt.Errorf("%w: %w", context.Canceled, err)
	case ctx.Err() != nil || errors.As(err, &ne) && ne.Timeout():
		pe.Err = fmt.Errorf("%w: %w", ErrPushTimeout, err)
	default:
		pe.Err = fmt.Errorf("%w: %w", ErrPushUnavailable, err)
	}
	return pe
}

// isDialFailure reports whether err happened while connecting, before any
// byte of the request was written, for a reason a retry may cure (not a
// name that does not resolve, nor TLS).
func isDialFailure(err error) bool {
	var op *net.OpError
	if !errors.As(err, &op) || op.Op != "dial" {
		return false
	}
	var dns *net.DNSError
	return !errors.As(err, &dns) || !dns.IsNotFound
}

// wait sleeps a jittered d unless ctx ends first or its deadline comes
// sooner; it reports whether the whole wait happened.
func wait(ctx context.Context, d time.Duration) bool {
	d = d/2 + rand.N(d/2+1)
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (c *PushClient) log(ctx context.Context, id string, enc encodedPush, status int, perr *PushError, attempts int, latency time.Duration) {
	if c.opts.Logger == nil || !c.opts.Logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	action := ActionDataSend
	if enc.Closing {
		action = ActionClosing
	}
	attrs := []slog.Attr{
		slog.String("action", string(action)),
		slog.String("secConnectionID", id),
		slog.Duration("latency", latency),
		slog.Int("attempts", attempts),
		slog.Int("status", status),
	}
	if perr != nil {
		attrs = append(attrs, slog.Int("errNo", perr.ErrNo), slog.String("err", perr.Error()))
	}
	if c.opts.LogData && !enc.Closing {
		attrs = append(attrs, slog.String("data", enc.msg.Data))
	}
	c.opts.Logger.LogAttrs(ctx, slog.LevelDebug, "scfws: push", attrs...)
}

// quietLogger keeps resty from writing to stderr: this package never logs
// by itself.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

package scfws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"
)

// Push defaults; each PushOptions field documents its own.
const (
	defaultPushTimeout = 3 * time.Second
	defaultMaxRetries  = 2
	defaultConcurrency = 32
	defaultMinBackoff  = 50 * time.Millisecond
	defaultMaxBackoff  = 2 * time.Second
	maxAnswerBytes     = 64 << 10
	maxBodyExcerpt     = 512
)

// PushOptions configures a [PushClient]. A nil *PushOptions means the zero
// value, whose fields all mean their defaults.
type PushOptions struct {
	// HTTPClient sends the pushes. Nil: a client of its own whose transport
	// keeps up to Concurrency idle keep-alive connections to the gateway,
	// so that a Broadcast reuses them.
	HTTPClient *http.Client
	// Timeout bounds each attempt (the ctx deadline bounds them all).
	// 0: 3 s.
	Timeout time.Duration
	// MaxRetries is how many times a transient failure (a transport error
	// before a response, or HTTP 429, 502, 503, 504) is retried. Other
	// failures are never retried: per Tencent, a non-200 answer already
	// made the gateway drop that client. 0: 2; negative: never.
	MaxRetries int
	// MinBackoff and MaxBackoff bound the jittered exponential wait between
	// retries; a Retry-After header replaces it when longer. 0: 50 ms and 2 s.
	MinBackoff, MaxBackoff time.Duration
	// Concurrency is how many pushes a Broadcast has in flight. 0: 32.
	Concurrency int
	// Logger receives one debug line per push: connection ID, HTTP status,
	// errNo, latency and attempts. Nil: no logging.
	Logger *slog.Logger
	// LogData adds the message data to those lines. Default false: message
	// data is never logged.
	LogData bool
}

// PushClient pushes to connections through the API's reverse-push address
// (one POST per connection; the protocol has no batching). Pushes are
// delivered at least once: a transient failure is retried, and a request that
// timed out may have reached the gateway. A PushClient is safe for concurrent
// use and should be reused for the life of the function instance.
type PushClient struct {
	url    string
	rc     *resty.Client
	opts   PushOptions
	logger *slog.Logger
}

// NewPushClient returns a client for the reverse-push URL pushURL. The URL
// must be absolute http or https with a host; otherwise the error quotes it.
func NewPushClient(pushURL string, opts *PushOptions) (*PushClient, error) {
	u, err := url.Parse(pushURL)
	if err != nil {
		return nil, fmt.Errorf("scfws: push URL %q: %w", pushURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("scfws: push URL %q: want an absolute http:// or https:// URL with a host", pushURL)
	}
	c := &PushClient{url: pushURL}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if o.Timeout <= 0 {
		o.Timeout = defaultPushTimeout
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = defaultMaxRetries
	} else if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = defaultMinBackoff
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = defaultMaxBackoff
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: pushTransport(o.Concurrency)}
	}
	c.rc = resty.NewWithClient(hc).SetRetryCount(0).SetLogger(quietLogger{}).SetDisableWarn(true).
		SetHeader("Content-Type", "application/json")
	c.logger = o.Logger
	return c, nil
}

// pushTransport is http.DefaultTransport's settings with an idle pool as
// large as the Broadcast concurrency.
func pushTransport(concurrency int) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = max(100, concurrency)
	t.MaxIdleConnsPerHost = concurrency
	return t
}

// NewPushClientFromEnv returns a client for the push URL in the environment
// variable SCFWS_PUSH_URL, or else wsBackUrl (the name Tencent's Serverless
// component uses). The error names both when neither is set.
func NewPushClientFromEnv(opts *PushOptions) (*PushClient, error) {
	for _, name := range []string{"SCFWS_PUSH_URL", "wsBackUrl"} {
		if v := os.Getenv(name); v != "" {
			return NewPushClient(v, opts)
		}
	}
	return nil, errors.New("scfws: no push URL: set SCFWS_PUSH_URL (or wsBackUrl) to the API's reverse-push address")
}

// URL returns the reverse-push URL.
func (c *PushClient) URL() string { return c.url }

// Send pushes a text message to one connection. It returns nil once the
// gateway answered 2xx with errNo 0, else a *PushError (see [PushError]).
// A 2xx answer with an empty body, or a JSON body without errNo, counts as
// success (it says nothing else); a 2xx body that is not JSON is
// [ErrPushBadAnswer], since something other than the gateway answered.
func (c *PushClient) Send(ctx context.Context, connectionID, text string) error {
	return c.SendMessage(ctx, connectionID, TextMessage(text))
}

// SendBinary pushes data as a binary message (base64 on the wire).
func (c *PushClient) SendBinary(ctx context.Context, connectionID string, data []byte) error {
	return c.SendMessage(ctx, connectionID, BinaryMessage(data))
}

// SendJSON marshals v once and pushes it as a text message. A value
// encoding/json cannot marshal is an error before any request.
func (c *PushClient) SendJSON(ctx context.Context, connectionID string, v any) error {
	m, err := JSONMessage(v)
	if err != nil {
		return err
	}
	return c.SendMessage(ctx, connectionID, m)
}

// SendMessage pushes a prepared message to one connection.
func (c *PushClient) SendMessage(ctx context.Context, connectionID string, m Message) error {
	p, err := prepare(m)
	if err != nil {
		return err
	}
	return c.push(ctx, connectionID, p)
}

// Disconnect asks the gateway to close the connection (action "closing").
func (c *PushClient) Disconnect(ctx context.Context, connectionID string) error {
	return c.push(ctx, connectionID, prepared{closing: true})
}

// prepared is a message whose JSON fragments are encoded once.
type prepared struct {
	closing bool
	suffix  []byte // `,"dataType":…,"data":…}}`
	data    string // for logging only
}

func prepare(m Message) (prepared, error) {
	if m.DataType != DataText && m.DataType != DataBinary {
		return prepared{}, fmt.Errorf("%w: dataType %q is neither %q nor %q", ErrInvalidData, m.DataType, DataText, DataBinary)
	}
	data, err := json.Marshal(m.Data)
	if err != nil {
		return prepared{}, err
	}
	suffix := make([]byte, 0, len(data)+40)
	suffix = append(suffix, `,"dataType":"`...)
	suffix = append(suffix, m.DataType...)
	suffix = append(suffix, `","data":`...)
	suffix = append(suffix, data...)
	suffix = append(suffix, "}}"...)
	return prepared{suffix: suffix, data: m.Data}, nil
}

// body builds the push body, byte for byte what encoding/json makes of
// {"websocket":{"action":…,"secConnectionID":…[,"dataType":…,"data":…]}}.
func (p prepared) body(connectionID string) []byte {
	id, _ := json.Marshal(connectionID) // a string always marshals
	b := make([]byte, 0, 64+len(id)+len(p.suffix))
	if p.closing {
		b = append(b, `{"websocket":{"action":"closing","secConnectionID":`...)
		b = append(b, id...)
		return append(b, "}}"...)
	}
	b = append(b, `{"websocket":{"action":"data send","secConnectionID":`...)
	b = append(b, id...)
	return append(b, p.suffix...)
}

// push sends one body, retrying transient failures.
func (c *PushClient) push(ctx context.Context, connectionID string, p prepared) error {
	if connectionID == "" {
		return &PushError{Err: ErrEmptyConnectionID}
	}
	body := p.body(connectionID)
	start := time.Now()
	var perr *PushError
	attempt, status := 1, 0
	for ; ; attempt++ {
		status, perr = c.attempt(ctx, connectionID, body)
		if perr == nil || !perr.transient || attempt > c.opts.MaxRetries {
			break
		}
		if !wait(ctx, c.backoff(attempt, perr.retryAfter)) {
			if ctx.Err() != nil {
				perr = &PushError{ConnectionID: connectionID, Err: timeoutOr(ctx.Err())}
			}
			break // the next try would not start before the deadline
		}
	}
	if perr != nil {
		perr.Attempts = attempt
	}
	c.log(ctx, connectionID, p, status, perr, attempt, time.Since(start))
	if perr == nil {
		return nil
	}
	return perr
}

// wait sleeps for d unless ctx ends first or its deadline is sooner than d;
// it reports whether the whole wait happened.
func wait(ctx context.Context, d time.Duration) bool {
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

// attempt makes one request and classifies its outcome.
func (c *PushClient) attempt(ctx context.Context, connectionID string, body []byte) (int, *PushError) {
	actx := ctx
	if d, ok := ctx.Deadline(); !ok || time.Until(d) > c.opts.Timeout {
		var cancel context.CancelFunc
		actx, cancel = context.WithTimeout(ctx, c.opts.Timeout)
		defer cancel()
	}
	resp, err := c.rc.R().
		SetContext(actx).
		SetBody(body).
		SetDoNotParseResponse(true).
		Post(c.url)
	if err != nil {
		pe := &PushError{ConnectionID: connectionID}
		switch {
		case ctx.Err() != nil:
			pe.Err = fmt.Errorf("%w: %w", timeoutOr(ctx.Err()), err)
		case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
			pe.Err = fmt.Errorf("%w: attempt exceeded %v: %w", ErrPushTimeout, c.opts.Timeout, err)
			pe.transient = true
		default:
			pe.Err = fmt.Errorf("%w: %w", ErrPushUnavailable, err)
			pe.transient = true
		}
		return 0, pe
	}
	raw := resp.RawBody()
	buf := answerBufs.Get().(*bytes.Buffer)
	defer answerBufs.Put(buf)
	buf.Reset()
	lr := &io.LimitedReader{R: raw, N: maxAnswerBytes}
	_, rerr := buf.ReadFrom(lr)
	lr.N = 4 * maxAnswerBytes
	_, _ = io.Copy(io.Discard, lr) // let the connection be reused
	_ = raw.Close()
	return resp.StatusCode(), classify(connectionID, resp.StatusCode(), resp.Header().Get("Retry-After"), buf.Bytes(), rerr)
}

// answerBufs holds the buffers answers are read into; classify copies what
// it keeps.
var answerBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// okAnswer is the gateway's documented success body.
var okAnswer = []byte(`{"errNo":0,"errMsg":"ok"}`)

// classify turns an HTTP answer into nil (success) or a *PushError.
// Success is a 2xx status whose body is empty or a JSON object with errNo 0
// or without errNo.
func classify(connectionID string, status int, retryAfter string, answer []byte, readErr error) *PushError {
	trimmed := bytes.TrimSpace(answer)
	if status >= 200 && status <= 299 && readErr == nil && (len(trimmed) == 0 || bytes.Equal(trimmed, okAnswer)) {
		return nil // the usual answer, without decoding it
	}
	pe := &PushError{ConnectionID: connectionID, StatusCode: status, Body: excerpt(answer)}
	var a struct {
		ErrNo  *int   `json:"errNo"`
		ErrMsg string `json:"errMsg"`
	}
	jsonErr := error(nil)
	if len(trimmed) > 0 {
		jsonErr = json.Unmarshal(trimmed, &a)
		if jsonErr == nil && a.ErrNo != nil {
			pe.ErrNo, pe.ErrMsg = *a.ErrNo, a.ErrMsg
		}
	}
	switch {
	case status == http.StatusTooManyRequests || status == http.StatusBadGateway ||
		status == http.StatusServiceUnavailable || status == http.StatusGatewayTimeout:
		pe.Err = fmt.Errorf("%w: HTTP %d", ErrPushUnavailable, status)
		pe.transient = true
		pe.retryAfter = parseRetryAfter(retryAfter)
	case status < 200 || status > 299:
		pe.Err = fmt.Errorf("%w: HTTP %d", ErrPushRefused, status)
	case readErr != nil:
		pe.Err = fmt.Errorf("%w: reading the answer: %w", ErrPushBadAnswer, readErr)
	case jsonErr != nil:
		pe.Err = fmt.Errorf("%w: HTTP %d with a body that is not JSON: %w", ErrPushBadAnswer, status, jsonErr)
	case pe.ErrNo != 0:
		pe.Err = fmt.Errorf("%w: errNo %d", ErrPushRefused, pe.ErrNo)
	default:
		return nil
	}
	return pe
}

func excerpt(b []byte) string {
	if len(b) > maxBodyExcerpt {
		return string(b[:maxBodyExcerpt]) + "…"
	}
	return string(b)
}

// backoff is the wait before retry number attempt: full-jitter exponential
// between MinBackoff and MaxBackoff, or Retry-After when that is longer.
func (c *PushClient) backoff(attempt int, retryAfter time.Duration) time.Duration {
	ceil := c.opts.MinBackoff << min(attempt-1, 20)
	if ceil > c.opts.MaxBackoff || ceil <= 0 {
		ceil = c.opts.MaxBackoff
	}
	wait := c.opts.MinBackoff/2 + rand.N(ceil-c.opts.MinBackoff/2+1)
	return max(wait, retryAfter)
}

func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return 0
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// timeoutOr maps the caller's ctx ending to ErrPushTimeout (deadline) or
// the cancellation itself.
func timeoutOr(ctxErr error) error {
	if errors.Is(ctxErr, context.DeadlineExceeded) {
		return fmt.Errorf("%w: %w", ErrPushTimeout, ctxErr)
	}
	return ctxErr
}

func (c *PushClient) log(ctx context.Context, id string, p prepared, status int, perr *PushError, attempts int, latency time.Duration) {
	if c.logger == nil || !c.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	action := ActionDataSend
	if p.closing {
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
	if c.opts.LogData && !p.closing {
		attrs = append(attrs, slog.String("data", p.data))
	}
	c.logger.LogAttrs(ctx, slog.LevelDebug, "scfws: push", attrs...)
}

// quietLogger keeps resty from writing to stderr: this package never logs
// by itself.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

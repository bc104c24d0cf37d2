package scfws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/internal/inproc"
	"github.com/scfws/scfws-go/internal/wire"
)

// Push defaults; each PushOptions field documents its own.
const (
	defaultPushTimeout = 3 * time.Second
	defaultConcurrency = 32
	defaultIdlePool    = 1024
	dialRetries        = 2
	dialBackoff        = 50 * time.Millisecond
)

// pushURLVars are the environment variables a push URL is read from, in order.
var pushURLVars = [...]string{"SCFWS_PUSH_URL", "wsBackUrl"}

// PushOptions configures a [PushClient]. A nil *PushOptions means the zero
// value, whose fields all mean their defaults.
type PushOptions struct {
	// HTTPClient sends the pushes; it is copied, not changed, and redirects
	// are refused either way. Nil: a client of its own whose transport keeps
	// up to 1,024 idle keep-alive connections to the gateway (or
	// Concurrency, if larger), enough for every invocation an instance runs
	// at once.
	HTTPClient *http.Client
	// Timeout bounds each push, retries included (the ctx deadline bounds it
	// too). 0: 3 s.
	Timeout time.Duration
	// Concurrency is how many pushes a Broadcast has in flight. 0: 32.
	Concurrency int
	// Logger receives one debug line per push: connection ID, HTTP status,
	// errNo, latency and attempts. Nil: no logging.
	Logger *slog.Logger
	// LogData adds the message data to those lines. Default false: message
	// data is never logged.
	LogData bool
}

// PushClient pushes to connections through the API's reverse-push address:
// one POST per connection (the protocol has no batching). It is safe for
// concurrent use; make one per function instance and reuse it.
//
// A push is delivered at most once. Success is HTTP 200 with errNo 0. Any
// other answer is final ([ErrPushRefused]: per Tencent's document, the
// gateway has dropped that client) and is never resent; neither is a push
// whose request was sent but whose answer did not come ([ErrPushTimeout],
// [ErrPushUnavailable]), since it may have been delivered. Only a push that
// provably never reached the gateway (it could not be dialled) is retried,
// up to twice within the deadline. Redirects are refused: the body never
// goes to another host.
type PushClient struct {
	rc      *resty.Client
	direct  inproc.Deliverer // the HTTPClient's Transport, when it is one
	opts    PushOptions
	url     atomic.Pointer[string] // nil until known (NewPushClientFromEnv)
	fromEnv bool                   // the URL follows the invocation's environment
	answers sync.Pool              // *bytes.Buffer to read answers into
}

// NewPushClient returns a client for the reverse-push URL pushURL. The URL
// must be absolute http or https with a host; otherwise the error quotes it.
func NewPushClient(pushURL string, opts *PushOptions) (*PushClient, error) {
	if err := checkPushURL(pushURL); err != nil {
		return nil, err
	}
	c := newPushClient(opts)
	c.url.Store(&pushURL)
	return c, nil
}

// NewPushClientFromEnv returns a client for the push URL in the environment
// variable SCFWS_PUSH_URL, or else wsBackUrl (the name Tencent's Serverless
// component uses), read at first use: SCF's Go runtime sets a function's
// environment with each invocation, so it may not be there yet when main
// runs. The environment of the invocation's ctx (scf-go-lib's
// functioncontext) is read first, at every push, then the process's, until
// a URL is found; that one is kept for pushes whose ctx carries no
// environment. A push before any URL is known fails with a *PushError wrapping
// [ErrPushUnavailable] that names both variables; a URL that is set but
// invalid is an error here, or at that push.
func NewPushClientFromEnv(opts *PushOptions) (*PushClient, error) {
	c := newPushClient(opts)
	c.fromEnv = true
	if _, err := c.resolve(context.Background()); err != nil && !errors.Is(err, errNoPushURL) {
		return nil, err
	}
	return c, nil
}

func newPushClient(opts *PushOptions) *PushClient {
	c := &PushClient{}
	if opts != nil {
		c.opts = *opts
	}
	o := &c.opts
	if o.Timeout <= 0 {
		o.Timeout = defaultPushTimeout
	}
	if o.Concurrency <= 0 {
		o.Concurrency = defaultConcurrency
	}
	var hc http.Client
	if o.HTTPClient != nil {
		hc = *o.HTTPClient
		c.direct, _ = hc.Transport.(inproc.Deliverer)
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns = max(defaultIdlePool, o.Concurrency)
		t.MaxIdleConnsPerHost = t.MaxIdleConns
		hc.Transport = t
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	// Every header resty would otherwise work out per request is set once
	// here (Accept, which it would derive from Content-Type with a regular
	// expression; User-Agent).
	c.rc = resty.NewWithClient(&hc).SetLogger(quietLogger{}).SetDisableWarn(true).
		// No transport may send a push twice: without GetBody neither
		// net/http nor its HTTP/2 client can rewind the body to replay it.
		SetPreRequestHook(func(_ *resty.Client, r *http.Request) error { r.GetBody = nil; return nil }).
		SetHeaders(map[string]string{"Content-Type": "application/json", "Accept": "application/json",
			"User-Agent": "scfws-go"})
	c.answers.New = func() any { return new(bytes.Buffer) }
	return c
}

var errNoPushURL = errors.New("no push URL: set SCFWS_PUSH_URL (or wsBackUrl) to the API's reverse-push address")

func checkPushURL(pushURL string) error {
	u, err := url.Parse(pushURL)
	if err != nil {
		return fmt.Errorf("scfws: push URL %q: %w", pushURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("scfws: push URL %q: want an absolute http:// or https:// URL with a host", pushURL)
	}
	return nil
}

// resolve returns the push URL: the invocation's environment's when the
// client follows the environment and ctx carries one, else the one kept,
// else the process environment's.
func (c *PushClient) resolve(ctx context.Context) (string, error) {
	cur := c.url.Load()
	if !c.fromEnv {
		return *cur, nil
	}
	if fc, ok := functioncontext.FromContext(ctx); ok {
		for _, name := range pushURLVars {
			if v := fc.Environment[name]; v != "" {
				return c.keep(cur, name, v)
			}
		}
	}
	if cur != nil {
		return *cur, nil
	}
	for _, name := range pushURLVars {
		if v := os.Getenv(name); v != "" {
			return c.keep(cur, name, v)
		}
	}
	return "", errNoPushURL
}

// keep checks a push URL read from variable name, unless it is the one
// kept already, and keeps it.
func (c *PushClient) keep(cur *string, name, v string) (string, error) {
	if cur != nil && *cur == v {
		return v, nil
	}
	if err := checkPushURL(v); err != nil {
		return "", fmt.Errorf("%w (from %s)", err, name)
	}
	c.url.Store(&v)
	return v, nil
}

// Send pushes m to one connection. It returns nil once the gateway answered
// HTTP 200 with errNo 0, else a *PushError (see [PushClient] for what is
// retried). An invalid Message is an error before any request.
func (c *PushClient) Send(ctx context.Context, connectionID string, m Message) error {
	enc, err := encodePush(ActionDataSend, m)
	if err != nil {
		return err
	}
	return c.push(ctx, connectionID, enc)
}

// Disconnect asks the gateway to close the connection (action "closing"),
// with the answers of [PushClient.Send]. The cleanup function is documented
// only for closes the client starts: delete the connection from your store
// yourself.
func (c *PushClient) Disconnect(ctx context.Context, connectionID string) error {
	return c.push(ctx, connectionID, encodedPush{Encoded: wire.Encoded{Closing: true}})
}

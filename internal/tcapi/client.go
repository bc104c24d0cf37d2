// Package tcapi calls Tencent Cloud's API through the SDK's generic
// CommonRequest (tencentcloud-sdk-go/tencentcloud/common: the per-service
// modules are not served), with small typed structs per action, the
// credentials and region found as tccli and the SDK find them, and retries
// of only what the API says may be retried.
package tcapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Error is an error answered by the API: its Code, Message and RequestId.
type Error struct {
	Action, Code, Message, RequestID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s: %s (RequestId %s)", e.Action, e.Code, e.Message, e.RequestID)
}

// IsCode reports whether err is an API error whose code is one of codes or
// starts with one of them followed by ".".
func IsCode(err error, codes ...string) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code == c || strings.HasPrefix(e.Code, c+".") {
			return true
		}
	}
	return false
}

// Options configures a Client.
type Options struct {
	// Endpoint is host[:port] of the API (no scheme): "" for
	// scf.tencentcloudapi.com over HTTPS. An "http://" prefix calls it
	// over plain HTTP — a local fake only: [New] refuses it for anything
	// but a loopback address, where a session token would travel in clear.
	Endpoint string
	// Retries is how many times a call answered RequestLimitExceeded, or
	// refused because a function is still changing, is made again, with
	// backoff from 1 s doubling. 0: 5; negative: none.
	Retries int
	// Backoff is the first wait between retries. 0: 1 s.
	Backoff time.Duration
}

// Client calls one service (scf, 2018-04-16) in one region.
type Client struct {
	c                *common.Client
	service, version string
	opts             Options
}

// New returns a client of service at version in region with cred; an
// http:// Endpoint that is not a loopback address is an error.
func New(cred common.CredentialIface, region, service, version string, opts *Options) (*Client, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	switch {
	case o.Retries == 0:
		o.Retries = 5
	case o.Retries < 0:
		o.Retries = 0
	}
	if o.Backoff == 0 {
		o.Backoff = time.Second
	}
	cpf := profile.NewClientProfile()
	if ep, ok := strings.CutPrefix(o.Endpoint, "http://"); ok {
		if !IsLoopback(ep) {
			return nil, fmt.Errorf("endpoint %s: plain http only to a loopback address (credentials and tokens would "+
				"cross the network in clear); use https:// for anything else", o.Endpoint)
		}
		cpf.HttpProfile.Scheme = "HTTP"
		cpf.HttpProfile.Endpoint = ep
	} else if o.Endpoint != "" {
		cpf.HttpProfile.Endpoint = strings.TrimPrefix(o.Endpoint, "https://")
	}
	cpf.HttpProfile.ReqTimeout = 60
	return &Client{c: common.NewCommonClient(cred, region, cpf), service: service, version: version, opts: o}, nil
}

// IsLoopback reports whether hostport names a loopback address:
// localhost, 127.0.0.0/8 or ::1.
func IsLoopback(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

// retryable: the API refused the call before doing anything, and says to
// try again later.
// (FailedOperation.DeleteFunction: "请在函数状态正常时重试".)
var retryable = []string{"RequestLimitExceeded", "FailedOperation.UpdateFunctionCode",
	"FailedOperation.UpdateFunctionConfiguration", "FailedOperation.FunctionStatusError",
	"FailedOperation.OperationConflict", "FailedOperation.DeleteFunction"}

// readOnly reports whether action only reads (Get…, List…): making it
// again changes nothing, so InternalError and a failed network are
// retried too — never for a call that changes something, which may have
// been done (a second CreateFunction).
func readOnly(action string) bool {
	return strings.HasPrefix(action, "Get") || strings.HasPrefix(action, "List")
}

// retry reports whether a failed call may be made again.
func retry(action string, err error) bool {
	if IsCode(err, retryable...) {
		return true
	}
	if !readOnly(action) {
		return false
	}
	var e *Error
	return IsCode(err, "InternalError") || !errors.As(err, &e) // an API answer, or none
}

// Call makes action with req (a struct marshalled to JSON) and decodes the
// answer's Response into resp (nil: ignored). An answer that is an error is
// an *Error; only the codes in retryable, and for a read InternalError or
// no answer, are tried again, with backoff.
func (c *Client) Call(ctx context.Context, action string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	wait := c.opts.Backoff
	for attempt := 0; ; attempt++ {
		err = c.call(ctx, action, body, resp)
		if err == nil || attempt >= c.opts.Retries || !retry(action, err) || ctx.Err() != nil {
			return err
		}
		d := wait/2 + rand.N(wait/2+1)
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(d):
		}
		wait *= 2
	}
}

func (c *Client) call(ctx context.Context, action string, body []byte, resp any) error {
	r := tchttp.NewCommonRequest(c.service, c.version, action)
	r.SetContext(ctx)
	if err := r.SetActionParameters(body); err != nil {
		return err
	}
	out := tchttp.NewCommonResponse()
	if err := c.c.Send(r, out); err != nil {
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) {
			return &Error{Action: action, Code: se.Code, Message: se.Message, RequestID: se.RequestId}
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	if resp == nil {
		return nil
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(out.GetBody(), &env); err != nil {
		return fmt.Errorf("%s: the answer is not JSON: %w", action, err)
	}
	if err := json.Unmarshal(env.Response, resp); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", action, err)
	}
	return nil
}

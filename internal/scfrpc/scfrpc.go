package scfrpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
)

// Request is one invocation.
type Request struct {
	Payload      []byte
	RequestID    string
	FunctionName string
	Namespace    string
	// Deadline is passed to the function as its context deadline. Zero:
	// the ctx deadline of Invoke, else 3 seconds from now (SCF's default timeout).
	Deadline time.Time
	// Environment is set by the runtime with os.Setenv before the handler runs.
	Environment     map[string]string
	MemoryLimitInMb int32
}

// FunctionError is the error a function returned or the panic it raised,
// as the runtime reports it.
type FunctionError struct {
	Message string
	Type    string
	// ShouldExit is set by the runtime after a panic.
	ShouldExit bool
}

func (e *FunctionError) Error() string {
	if e.Type == "" {
		return "function error: " + e.Message
	}
	return fmt.Sprintf("function error (%s): %s", e.Type, e.Message)
}

// ErrUnavailable means the function's process could not be reached.
var ErrUnavailable = errors.New("scfrpc: function unavailable")

// Client calls one running function. It is safe for concurrent use.
type Client struct {
	c *rpc.Client
}

// Dial connects to a function listening on addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return &Client{c: rpc.NewClient(conn)}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.c.Close() }

// Ping calls Function.Ping.
func (c *Client) Ping(ctx context.Context) error {
	return c.call(ctx, "Function.Ping", &messages.PingRequest{}, &messages.PingResponse{})
}

// Invoke calls Function.Invoke and returns the function's answer. A function
// error is a *FunctionError; a broken connection wraps ErrUnavailable; ctx
// ending first returns ctx.Err().
func (c *Client) Invoke(ctx context.Context, req Request) ([]byte, error) {
	deadline := req.Deadline
	if deadline.IsZero() {
		if d, ok := ctx.Deadline(); ok {
			deadline = d
		} else {
			deadline = time.Now().Add(3 * time.Second)
		}
	}
	in := &messages.InvokeRequest{
		Payload:         req.Payload,
		RequestId:       req.RequestID,
		Deadline:        messages.InvokeRequest_Timestamp{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
		FunctionName:    req.FunctionName,
		Namespace:       req.Namespace,
		MemoryLimitInMb: req.MemoryLimitInMb,
		TimeLimitInMs:   int32(time.Until(deadline) / time.Millisecond),
	}
	if len(req.Environment) > 0 {
		env, err := json.Marshal(req.Environment)
		if err != nil {
			return nil, err
		}
		in.Environment = string(env)
	}
	var out messages.InvokeResponse
	if err := c.call(ctx, "Function.Invoke", in, &out); err != nil {
		return nil, err
	}
	if out.Error != nil {
		return nil, &FunctionError{Message: out.Error.Message, Type: out.Error.Type, ShouldExit: out.Error.ShouldExit}
	}
	return out.Payload, nil
}

func (c *Client) call(ctx context.Context, method string, in, out any) error {
	call := c.c.Go(method, in, out, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			if _, ok := call.Error.(rpc.ServerError); ok {
				return fmt.Errorf("scfrpc: %s: %w", method, call.Error)
			}
			return fmt.Errorf("%w: %s: %w", ErrUnavailable, method, call.Error)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

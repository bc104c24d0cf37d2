package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/scfws"
)

// Functions are the three functions (scfws.Functions), with what the core
// does with them.
type Functions scfws.Functions

func (f Functions) all() []cloudfunction.Handler {
	return []cloudfunction.Handler{f.Register, f.Transmission, f.Cleanup}
}

// Starter is a function that runs as a process: started with the process
// environment procEnv, invoked with invokeEnv; Drain keeps it from being
// restarted, Close stops it.
type Starter interface {
	Start(ctx context.Context, procEnv, invokeEnv map[string]string) error
	Drain()
	Close() error
}

func (f Functions) drain() {
	for _, h := range f.all() {
		if st, ok := h.(Starter); ok {
			st.Drain()
		}
	}
}

func (f Functions) stop() {
	for _, h := range f.all() {
		if st, ok := h.(Starter); ok {
			_ = st.Close()
		}
	}
}

// invoke calls fn as SCF would: a fresh request ID, the deadline, the
// function's name and environment in scf-go-lib's functioncontext. A panic
// is an error.
func (s *Server) invoke(ctx context.Context, name string, fn cloudfunction.Handler, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.InvokeTimeout)
	defer cancel()
	ctx = functioncontext.NewContext(ctx, &functioncontext.FunctionContext{
		RequestID: newRequestID(), FunctionName: name, Namespace: "default",
		TimeLimitInMs: int32(s.opts.InvokeTimeout / time.Millisecond),
		Environment:   s.environment(),
	})
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- result{err: fmt.Errorf("%s: %s panicked: %v", s.opts.LogPrefix, name, v)}
			}
		}()
		out, err := fn.Invoke(ctx, payload)
		ch <- result{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%s: %s: %w", s.opts.LogPrefix, name, ctx.Err())
	}
}

// cleanup invokes the cleanup function for id.
func (s *Server) cleanup(id string) {
	if s.fns.Cleanup == nil {
		return
	}
	payload, _ := json.Marshal(&scfws.CleanupEvent{WebSocket: scfws.CleanupWebSocket{
		Action: scfws.ActionClosing, SecConnectionID: id}})
	start := time.Now()
	_, err := s.invoke(context.Background(), "cleanup", s.fns.Cleanup, payload)
	s.logEvent(scfws.ActionClosing, id, start, err, "")
}

func (s *Server) logEvent(a scfws.Action, id string, start time.Time, err error, data string) {
	if err == nil && !s.log.Enabled(context.Background(), slog.LevelInfo) {
		return // the hot path builds no attributes nobody reads
	}
	attrs := []any{"action", string(a), "secConnectionID", id, "latency", time.Since(start)}
	if s.opts.LogData && data != "" {
		attrs = append(attrs, "data", data)
	}
	if err != nil {
		s.log.Warn(s.opts.LogPrefix+": invocation failed", append(attrs, "err", err)...)
		return
	}
	s.log.Info(s.opts.LogPrefix+": event", attrs...)
}

// newConnectionID returns a connection ID shaped like the gateway's: 16
// random bytes in standard base64 (24 characters).
func newConnectionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// newRequestID returns a UUID-shaped random ID, as the gateway's requestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

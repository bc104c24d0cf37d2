package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"sync"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/internal/scfrpc"
)

// Functions are the API's three functions: the scfws adapters, a
// *scfws.Router, any scf-go-lib cloudfunction.Handler, or a [Binary]. The
// same one may serve several (one binary deployed as all three). A nil
// Register accepts every connection with no subprotocol and no extension; a
// nil Transmission drops messages; a nil Cleanup is skipped.
type Functions struct {
	// Register is invoked before a handshake is accepted.
	Register cloudfunction.Handler
	// Transmission is invoked for each client message.
	Transmission cloudfunction.Handler
	// Cleanup is invoked once when a connection ends.
	Cleanup cloudfunction.Handler
}

func (f Functions) all() []cloudfunction.Handler {
	return []cloudfunction.Handler{f.Register, f.Transmission, f.Cleanup}
}

// drain keeps the binaries among the functions from restarting.
func (f Functions) drain() {
	for _, h := range f.all() {
		if b, ok := h.(*BinaryFunction); ok {
			b.mu.Lock()
			if b.proc != nil {
				b.proc.Drain()
			}
			b.mu.Unlock()
		}
	}
}

// stop stops the binaries among the functions.
func (f Functions) stop() {
	for _, h := range f.all() {
		if st, ok := h.(starter); ok {
			_ = st.close()
		}
	}
}

// invoke calls fn as SCF would: a fresh request ID, the deadline, the
// function's name and environment in scf-go-lib's functioncontext.
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
				ch <- result{err: fmt.Errorf("emulator: %s panicked: %v", name, v)}
			}
		}()
		out, err := fn.Invoke(ctx, payload)
		ch <- result{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("emulator: %s: %w", name, ctx.Err())
	}
}

// starter is a function that runs as a process: started with the process
// environment procEnv, invoked with invokeEnv.
type starter interface {
	start(ctx context.Context, procEnv, invokeEnv map[string]string) error
	close() error
}

// BinaryFunction is an SCF Go binary run over the runtime protocol. Make it
// with [Binary]; the Server starts it on Start and stops it on Shutdown.
type BinaryFunction struct {
	path   string
	output io.Writer

	mu   sync.Mutex
	proc *scfrpc.Process
	env  map[string]string
}

// Binary returns the function at path (a binary built for this machine).
// It runs with this process's environment plus _LAMBDA_SERVER_PORT (and
// SCFWS_PUSH_URL and wsBackUrl with Options.EnvAtStart); each invocation
// carries SCFWS_PUSH_URL and wsBackUrl, which scf-go-lib sets with
// os.Setenv. Its stdout and stderr go to output (nil: discarded).
func Binary(path string, output io.Writer) *BinaryFunction {
	return &BinaryFunction{path: path, output: output}
}

func (b *BinaryFunction) start(ctx context.Context, procEnv, invokeEnv map[string]string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc != nil {
		return nil // one binary serving several functions
	}
	var kv []string
	for k, v := range procEnv {
		kv = append(kv, k+"="+v)
	}
	p, err := scfrpc.StartProcess(ctx, b.path, kv, b.output)
	if err != nil {
		return err
	}
	b.proc, b.env = p, maps.Clone(invokeEnv)
	return nil
}

func (b *BinaryFunction) close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return nil
	}
	err := b.proc.Close()
	b.proc = nil
	return err
}

// Invoke invokes the binary with the request ID, function name, deadline
// and environment of the invocation's context.
func (b *BinaryFunction) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	b.mu.Lock()
	p, env := b.proc, b.env
	b.mu.Unlock()
	if p == nil {
		return nil, fmt.Errorf("emulator: %s is not started", b.path)
	}
	req := scfrpc.Request{Payload: payload, Environment: env}
	if fc, ok := functioncontext.FromContext(ctx); ok {
		req.RequestID, req.FunctionName, req.Namespace = fc.RequestID, fc.FunctionName, fc.Namespace
	}
	return p.Invoke(ctx, req)
}

// newRequestID returns a UUID-shaped random ID, as the gateway's requestId.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

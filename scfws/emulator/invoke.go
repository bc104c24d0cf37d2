package emulator

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/internal/scfrpc"
)

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

// Start starts the binary; a second call (one binary serving several
// functions) does nothing. It is called by the Server.
func (b *BinaryFunction) Start(ctx context.Context, procEnv, invokeEnv map[string]string) error {
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

// Drain keeps a binary that dies from being started again. It is called by
// the Server.
func (b *BinaryFunction) Drain() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc != nil {
		b.proc.Drain()
	}
}

// Close stops the binary. It is called by the Server.
func (b *BinaryFunction) Close() error {
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

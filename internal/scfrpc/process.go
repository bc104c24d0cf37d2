package scfrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Process is an SCF Go binary started as the cloud starts it: with
// _LAMBDA_SERVER_PORT set to a free port. It restarts the binary on the next
// Invoke when it has died (the cloud starts a new instance too), unless
// draining. It is safe for concurrent use.
//
// scf-go-lib listens on all interfaces (0.0.0.0), which this side cannot
// change; it checks that the port it calls is the child's. On Linux the
// child runs in its own process group and gets SIGKILL when this process
// dies, however it dies.
type Process struct {
	path   string
	env    []string
	output io.Writer

	mu       sync.Mutex
	cmd      *exec.Cmd
	client   *Client
	exited   chan struct{}
	closed   bool
	draining bool
}

// StartProcess starts the binary at path with the extra environment env
// ("K=V") and waits until it answers Ping (up to 10 s or ctx). Its stdout and
// stderr go to output (nil: discarded).
func StartProcess(ctx context.Context, path string, env []string, output io.Writer) (*Process, error) {
	if output == nil {
		output = io.Discard
	}
	p := &Process{path: path, env: env, output: output}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Process) start(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	var cmd *exec.Cmd
	for _, attr := range isolatedAttrs() { // its own process group (and PID namespace), killed with us where the system can
		cmd = exec.Command(p.path)
		cmd.Env = append(append(os.Environ(), p.env...), "_LAMBDA_SERVER_PORT="+strconv.Itoa(port))
		cmd.Stdout, cmd.Stderr = p.output, p.output
		cmd.SysProcAttr = attr
		if err = cmd.Start(); err == nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("scfrpc: start %s: %w", p.path, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for wait := time.Millisecond; ; wait = min(2*wait, 16*time.Millisecond) {
		c, err := Dial(ctx, addr)
		if err == nil {
			// scf-go-lib listens on all interfaces: make sure the port is
			// the child's, not another process's that took it first
			if err = c.Ping(ctx); err == nil && listensOn(cmd.Process.Pid, port) {
				p.cmd, p.client, p.exited = cmd, c, exited
				return nil
			}
			_ = c.Close()
		}
		select {
		case <-exited:
			return fmt.Errorf("%w: %s exited before serving: %v", ErrUnavailable, p.path, cmd.ProcessState)
		case <-ctx.Done():
			KillGroup(cmd)
			<-exited
			return fmt.Errorf("%w: %s did not answer on %s: %w", ErrUnavailable, p.path, addr, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Invoke invokes the function (see [Client.Invoke]), restarting the
// process first when it has exited.
func (p *Process) Invoke(ctx context.Context, req Request) ([]byte, error) {
	c, err := p.ensure(ctx)
	if err != nil {
		return nil, err
	}
	out, err := c.Invoke(ctx, req)
	if fe, ok := errors.AsType[*FunctionError](err); ok && fe.ShouldExit {
		p.restartLater(c)
	}
	if errors.Is(err, ErrUnavailable) {
		p.restartLater(c)
	}
	return out, err
}

func (p *Process) ensure(ctx context.Context) (*Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("%w: process closed", ErrUnavailable)
	}
	if p.client == nil && p.draining {
		return nil, fmt.Errorf("%w: process draining, not restarted", ErrUnavailable)
	}
	if p.client == nil {
		if err := p.start(ctx); err != nil {
			return nil, err
		}
	}
	return p.client, nil
}

// restartLater kills the instance that client belongs to; the next Invoke
// starts a new one.
func (p *Process) restartLater(c *Client) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client != c {
		return
	}
	p.stop()
}

func (p *Process) stop() {
	if p.client == nil {
		return
	}
	_ = p.client.Close()
	KillGroup(p.cmd)
	<-p.exited
	p.client, p.cmd = nil, nil
}

// Drain stops restarts: from now on an instance that dies stays dead, and
// Invoke fails with ErrUnavailable (for shutting down).
func (p *Process) Drain() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draining = true
}

// Close kills the process and waits for it.
func (p *Process) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.stop()
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

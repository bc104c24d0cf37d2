package scfrpc

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func startFn(t *testing.T, env ...string) *Process {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fn")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/fn").CombinedOutput()
	require.NoError(t, err, string(out))
	p, err := StartProcess(context.Background(), bin, env, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func call(p *Process, payload string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := p.Invoke(ctx, Request{Payload: []byte(payload), RequestID: "req-1", FunctionName: "fn",
		Environment: map[string]string{"PER_INVOKE": "set by the runtime"}})
	return string(out), err
}

func TestProcess(t *testing.T) {
	p := startFn(t, "AT_START=from the process env")

	out, err := call(p, "echo me", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "echo me", out)

	out, err = call(p, "ctx", 5*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "req-1|fn|short", out, "request ID, function name and deadline reach the function")

	for env, want := range map[string]string{"AT_START": "from the process env", "PER_INVOKE": "set by the runtime"} {
		out, err = call(p, "env "+env, 5*time.Second)
		require.NoError(t, err)
		assert.Equal(t, want, out)
	}

	_, err = call(p, "error", 5*time.Second)
	fe, ok := errors.AsType[*FunctionError](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, "told to fail", fe.Message)
	assert.False(t, fe.ShouldExit)

	_, err = call(p, "sleep", 200*time.Millisecond)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestProcessRestarts: after a panic or a crash the next invocation runs on
// a new instance, as in the cloud.
func TestProcessRestarts(t *testing.T) {
	p := startFn(t)
	_, err := call(p, "panic", 5*time.Second)
	fe, ok := errors.AsType[*FunctionError](err)
	require.True(t, ok, "%v", err)
	assert.True(t, fe.ShouldExit)
	assert.Contains(t, fe.Message, "told to panic")
	out, err := call(p, "after panic", 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "after panic", out)

	_, err = call(p, "exit", 5*time.Second)
	require.ErrorIs(t, err, ErrUnavailable)
	out, err = call(p, "after exit", 10*time.Second)
	require.NoError(t, err)
	assert.Equal(t, "after exit", out)
}

func TestStartProcessFails(t *testing.T) {
	_, err := StartProcess(context.Background(), "/nonexistent/fn", nil, nil)
	require.Error(t, err)
	// a program that exits at once instead of serving
	_, err = StartProcess(context.Background(), "/bin/true", nil, nil)
	require.ErrorIs(t, err, ErrUnavailable)
}

// TestProcessDrainingIsNotRestarted: once draining (shutting down), an
// instance that dies stays dead.
func TestProcessDrainingIsNotRestarted(t *testing.T) {
	p := startFn(t)
	p.Drain()
	_, err := call(p, "exit", 5*time.Second)
	require.Error(t, err)
	_, err = call(p, "echo", 5*time.Second)
	require.ErrorIs(t, err, ErrUnavailable)
	assert.ErrorContains(t, err, "draining")
}

// TestListensOn: the port check finds the child's listener, and no other.
func TestListensOn(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	assert.True(t, listensOn(os.Getpid(), port), "this process's listener")
	assert.False(t, listensOn(os.Getppid(), port), "another process's")
	assert.False(t, listensOn(os.Getpid(), port+1))
}

// Package redistest starts a Redis server for tests: a real redis-server on
// a free loopback port in a temporary directory when the binary is on PATH,
// else an in-process miniredis (and it says so).
package redistest

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/scfws/scfws-go/internal/testnote"
)

// Server is a running Redis for tests.
type Server struct {
	// Addr is host:port.
	Addr string
	// Real is true for redis-server, false for miniredis.
	Real bool
	stop func()
}

// Close stops the server and removes its files.
func (s *Server) Close() { s.stop() }

// Start starts a server and writes one line to log saying which.
func Start(log io.Writer) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return startMini(log)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	_ = l.Close()
	dir, err := os.MkdirTemp("", "scfws-redis-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no")
	cmd.SysProcAttr = dieWithParent() // a test binary killed by its timeout leaves no server behind
	if err := cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Real: true,
		stop: func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); _ = os.RemoveAll(dir) }}
	rdb := redis.NewClient(&redis.Options{Addr: s.Addr})
	defer rdb.Close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		err := rdb.Ping(context.Background()).Err()
		if err == nil {
			fmt.Fprintf(log, "redistest: redis-server on %s\n", s.Addr)
			return s, nil
		}
		if time.Since(start) > 10*time.Second {
			s.Close()
			return nil, fmt.Errorf("redistest: redis-server did not answer: %w", err)
		}
	}
}

// startMini runs miniredis, telling it that time passes (it expires keys
// only when told).
func startMini(log io.Writer) (*Server, error) {
	mr, err := miniredis.Run()
	if err != nil {
		return nil, err
	}
	testnote.Say(log, "redistest: redis-server is not on PATH; using miniredis instead (install redis-server to test against the real server)")
	done := make(chan struct{})
	go func() {
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
				now := time.Now()
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return &Server{Addr: mr.Addr(), stop: func() { close(done); mr.Close() }}, nil
}

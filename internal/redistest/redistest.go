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
	"strings"
	"sync"
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
	Real  bool
	stop  func()
	start func() error
	kill  func()
}

// Close stops the server and removes its files.
func (s *Server) Close() { s.stop() }

// Start starts a server and writes one line to log saying which.
func Start(log io.Writer) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return startMini(log)
	}
	port, err := freePort(false)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "scfws-redis-")
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Real: true}
	var cmd *exec.Cmd
	s.start = func() (err error) {
		cmd, err = startServer(bin, port, dir)
		return err
	}
	s.kill = func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	s.stop = func() { s.kill(); _ = os.RemoveAll(dir) }
	if err := s.start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	if err := waitPing(s.Addr); err != nil {
		s.Close()
		return nil, err
	}
	fmt.Fprintf(log, "redistest: redis-server on %s\n", s.Addr)
	return s, nil
}

// Restart kills the server (SIGKILL: no persistence, so every key is
// lost) and starts it again on the same port. Only for a real server.
func (s *Server) Restart() error {
	if !s.Real {
		return fmt.Errorf("redistest: Restart needs redis-server")
	}
	s.kill()
	if err := s.start(); err != nil {
		return err
	}
	return waitPing(s.Addr)
}

// startServer starts redis-server on port, in dir, extra arguments after.
func startServer(bin string, port int, dir string, extra ...string) (*exec.Cmd, error) {
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = dieWithParent() // a test binary killed by its timeout leaves no server behind
	return cmd, cmd.Start()
}

// freePort finds a free loopback port; with bus, one whose port+10000 (a
// Cluster node's bus port) is free too.
func freePort(bus bool) (int, error) {
	for range 100 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !bus {
			return port, nil
		}
		if port+10000 > 65535 {
			continue
		}
		if l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000))); err == nil {
			_ = l2.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("redistest: no free port")
}

func waitPing(addr string) error {
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	defer rdb.Close()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		err := rdb.Ping(context.Background()).Err()
		if err == nil {
			return nil
		}
		if time.Since(start) > 10*time.Second {
			return fmt.Errorf("redistest: redis-server on %s did not answer: %w", addr, err)
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

// CommandStats reads INFO commandstats from every server behind rdb (each
// shard of a Cluster): calls per command (those run by scripts counted
// too), and their sum under "".
func CommandStats(ctx context.Context, rdb redis.UniversalClient) (map[string]int64, error) {
	out := map[string]int64{}
	var mu sync.Mutex
	add := func(info string) {
		mu.Lock()
		defer mu.Unlock()
		for line := range strings.SplitSeq(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimSpace(line), ":calls=")
			if !ok {
				continue
			}
			calls, _, _ := strings.Cut(rest, ",")
			n, _ := strconv.ParseInt(calls, 10, 64)
			out[strings.TrimPrefix(name, "cmdstat_")] += n
			out[""] += n
		}
	}
	if cc, ok := rdb.(*redis.ClusterClient); ok {
		err := cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
			info, err := c.Info(ctx, "commandstats").Result()
			add(info)
			return err
		})
		return out, err
	}
	info, err := rdb.Info(ctx, "commandstats").Result()
	add(info)
	return out, err
}

package client_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

// The test binary is also a host instance in a process of its own (for
// SIGTERM): run with SCFWS_RESUME_INSTANCE=<redis address> it serves
// resumeApp, prints "url <ws URL>", and shuts down on SIGTERM.
func TestMain(m *testing.M) {
	redis.SetLogger(quiet{})
	if addr := os.Getenv("SCFWS_RESUME_INSTANCE"); addr != "" {
		ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
		defer stop()
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		h, err := newHost(rdb, testOptions(), false)
		if err == nil {
			fmt.Printf("url %s\n", h.srv.URL())
			err = h.serve(ctx)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "instance:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// testOptions are the host options of the tests: from the environment,
// so that a process instance gets the same as an in-process one.
func testOptions() *host.Options {
	o := &host.Options{Addr: "127.0.0.1:0", MaxMessagesPerSecond: -1, MaxBytesPerSecond: -1, Lease: time.Second,
		Heartbeat: time.Second, ResumeWindow: 20 * time.Second}
	if d, err := time.ParseDuration(os.Getenv("SCFWS_TEST_LIFETIME")); err == nil {
		o.MaxLifetime = d
	}
	if d, err := time.ParseDuration(os.Getenv("SCFWS_TEST_WINDOW")); err == nil {
		o.ResumeWindow = d
	}
	return o
}

// testHost is a host instance serving resumeApp.
type testHost struct {
	srv  *host.Server
	push *scfws.PushClient
	rdb  redis.UniversalClient
}

// newHost makes an instance whose app counts in rdb; on the bus (Redis
// between instances) unless inMemory.
func newHost(rdb redis.UniversalClient, o *host.Options, inMemory bool) (*testHost, error) {
	if !inMemory && o.Redis == nil {
		o.Redis = rdb
	}
	srv, err := host.New(o)
	if err != nil {
		return nil, err
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		return nil, err
	}
	return &testHost{srv: srv, push: push, rdb: rdb}, nil
}

// resumeApp counts in Redis each register (registers:<id>), cleanup
// (cleanups:<id>) and client message (got:<id>:<text>), and answers "me"
// with the connection's ID and "echo <text>" with text.
func (h *testHost) serve(ctx context.Context) error {
	count := func(ctx context.Context, key string) error {
		if h.rdb == nil {
			return nil
		}
		return h.rdb.Incr(ctx, key).Err()
	}
	app := &scfws.Router{
		Register: func(ctx context.Context, ev *scfws.RegisterEvent) error {
			return count(ctx, "registers:"+ev.ConnectionID())
		},
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			id, data := ev.ConnectionID(), ev.WebSocket.Data
			if err := count(ctx, "got:"+id+":"+data); err != nil {
				return err
			}
			switch {
			case data == "me":
				return h.push.Send(ctx, id, scfws.Text(id))
			case strings.HasPrefix(data, "echo "):
				return h.push.Send(ctx, id, scfws.Text(strings.TrimPrefix(data, "echo ")))
			}
			return nil
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error {
			return count(ctx, "cleanups:"+ev.ConnectionID())
		},
	}
	return h.srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app})
}

// startHost serves an in-process instance until the test ends (or stop).
func startHost(t testing.TB, rdb redis.UniversalClient, o *host.Options) (h *testHost, stop func()) {
	t.Helper()
	return startHostOn(t, rdb, o, false)
}

// startHostOn is startHost, the instance alone (no bus) when inMemory.
func startHostOn(t testing.TB, rdb redis.UniversalClient, o *host.Options, inMemory bool) (h *testHost, stop func()) {
	t.Helper()
	h, err := newHost(rdb, o, inMemory)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.serve(ctx) }()
	// serving once it answers HTTP (426: not an upgrade), which it does
	// once on the bus (Serve joins it first)
	hc := &http.Client{Timeout: 200 * time.Millisecond}
	u := "http" + strings.TrimPrefix(h.srv.URL(), "ws")
	require.Eventually(t, func() bool {
		resp, err := hc.Get(u)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return true
	}, 20*time.Second, 10*time.Millisecond, "the host serves")
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(stop)
	return h, stop
}

// process is a host instance in a process of its own.
type process struct {
	cmd *exec.Cmd
	url string
}

func startProcess(t testing.TB, redisAddr string, env ...string) *process {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), "SCFWS_RESUME_INSTANCE="+redisAddr), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "url "); ok {
				urls <- u
			}
		}
	}()
	select {
	case u := <-urls:
		return &process{cmd: cmd, url: u}
	case <-time.After(30 * time.Second):
		t.Fatal("the instance did not start")
		return nil
	}
}

func startRedis(t testing.TB) (*redistest.Server, *redis.Client) {
	t.Helper()
	r, err := redistest.Start(os.Stderr)
	require.NoError(t, err)
	t.Cleanup(r.Close)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	return r, rdb
}

// startFront is what stands before the instances (a function URL's load
// balancer): a TCP proxy to the first of targets that accepts, which the
// test moves (To) and whose links it cuts (Cut, then Restore).
func startFront(t testing.TB, targets ...string) *redistest.Proxy {
	t.Helper()
	p, err := redistest.StartProxy(targets[0])
	require.NoError(t, err)
	p.To(targets...)
	t.Cleanup(p.Close)
	return p
}

func frontURL(p *redistest.Proxy) string { return "ws://" + p.Addr + "/" }

// hostPort is a ws:// URL's host:port.
func hostPort(u string) string {
	return strings.TrimSuffix(strings.TrimPrefix(u, "ws://"), "/")
}

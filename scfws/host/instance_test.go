package host_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

// The test binary is also a server for the tests and benchmarks that need
// one in a process of its own: run with SCFWS_TEST_INSTANCE=<redis
// address>, it serves instanceApp on a free loopback port as a host
// instance, prints "url <ws URL>", and shuts down on SIGTERM; with
// SCFWS_TEST_PLAIN=1 it is the plain echo server of the benchmarks.
func TestMain(m *testing.M) {
	redis.SetLogger(quietRedis{}) // the fault tests make go-redis complain on stderr
	if os.Getenv("SCFWS_TEST_PLAIN") != "" {
		runPlain()
	}
	if addr := os.Getenv("SCFWS_TEST_INSTANCE"); addr != "" {
		if err := runInstance(addr); err != nil {
			fmt.Fprintln(os.Stderr, "instance:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// runInstance serves instanceApp; redisAddr "-" means no Redis.
func runInstance(redisAddr string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	var rdb *redis.Client
	opts := &host.Options{Addr: "127.0.0.1:0", MaxMessagesPerSecond: -1, MaxBytesPerSecond: -1}
	if l := os.Getenv("SCFWS_TEST_LEASE"); l != "" {
		d, err := time.ParseDuration(l)
		if err != nil {
			return err
		}
		opts.Lease = d
	}
	if redisAddr != "-" {
		rdb = redis.NewClient(&redis.Options{Addr: redisAddr})
		opts.Redis = rdb
	}
	srv, err := host.New(opts)
	if err != nil {
		return err
	}
	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
	if err != nil {
		return err
	}
	app := instanceApp(push, rdb)
	if os.Getenv("SCFWS_TEST_DEFLATE") != "" {
		app.RegisterOptions = &scfws.RegisterOptions{Extensions: []string{"permessage-deflate"}}
	}
	fmt.Printf("url %s\n", srv.URL())
	return srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app})
}

// instanceApp answers its sender:
//
//	me               → its own connection ID
//	to <id> <text>   → pushes text to id: "ok", or "refused" / "unavailable" / the error
//	seq <id> <n>     → pushes "0" … "n-1" to id in order, then "sent n"
//	echo <text>      → pushes text back
//
// and counts each cleanup in Redis (cleanups:<id>).
func instanceApp(push *scfws.PushClient, rdb *redis.Client) *scfws.Router {
	reply := func(ctx context.Context, id, s string) error { return push.Send(ctx, id, scfws.Text(s)) }
	return &scfws.Router{
		Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			id := ev.ConnectionID()
			f := strings.SplitN(ev.WebSocket.Data, " ", 3)
			switch {
			case f[0] == "me":
				return reply(ctx, id, id)
			case f[0] == "echo":
				return reply(ctx, id, strings.TrimPrefix(ev.WebSocket.Data, "echo "))
			case f[0] == "to" && len(f) == 3:
				return reply(ctx, id, kind(push.Send(ctx, f[1], scfws.Text(f[2]))))
			case f[0] == "seq" && len(f) == 3:
				var n int
				_, _ = fmt.Sscan(f[2], &n)
				for i := range n {
					if err := push.Send(ctx, f[1], scfws.Text(fmt.Sprint(i))); err != nil {
						return reply(ctx, id, kind(err))
					}
				}
				return reply(ctx, id, fmt.Sprintf("sent %d", n))
			}
			return reply(ctx, id, "unknown command")
		},
		Cleanup: func(ctx context.Context, ev *scfws.CleanupEvent) error {
			if rdb == nil {
				return nil
			}
			return rdb.Incr(ctx, "cleanups:"+ev.ConnectionID()).Err()
		},
	}
}

func kind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, scfws.ErrPushRefused):
		return "refused"
	case errors.Is(err, scfws.ErrPushUnavailable):
		return "unavailable"
	}
	return err.Error()
}

// instance is a host instance running as a process.
type instance struct {
	cmd *exec.Cmd
	url string
}

// startInstance runs an instance on Redis at redisAddr, with more
// environment variables in env (SCFWS_TEST_LEASE=1s).
func startInstance(t testing.TB, redisAddr string, env ...string) *instance {
	return startServer(t, append([]string{"SCFWS_TEST_INSTANCE=" + redisAddr}, env...)...)
}

// startServer runs the test binary as a server with env set.
func startServer(t testing.TB, env ...string) *instance {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "url "); ok {
				lines <- u
			}
		}
	}()
	select {
	case u := <-lines:
		return &instance{cmd: cmd, url: u}
	case <-time.After(30 * time.Second):
		t.Fatal("the instance did not start")
		return nil
	}
}

package host_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/host"
)

// runPlain is the baseline server in a process of its own: a coder/websocket
// echo server with no functions and no push. It prints "url …" and serves
// until killed.
func runPlain() {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("url ws://%s/\n", l.Addr())
	_ = http.Serve(l, benchtest.PlainEcho())
	os.Exit(0)
}

// BenchmarkEcho: client → host → transmission function (a *scfws.Router)
// → PushClient.Send through the host's in-process client → client, against
// a plain coder/websocket echo server in the same process, rounds
// interleaved. Rate limits are off (the Web function's 10 messages/s per
// connection would be the bound otherwise).
func BenchmarkEcho(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("host-%d", n), func(b *testing.B) {
			srv, err := host.New(&host.Options{Addr: "127.0.0.1:0", MaxMessagesPerSecond: -1, MaxBytesPerSecond: -1,
				InvokeTimeout: 30 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client(), Timeout: 30 * time.Second})
			if err != nil {
				b.Fatal(err)
			}
			r := &scfws.Router{Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
				return push.Send(ctx, ev.ConnectionID(), ev.Message())
			}}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, scfws.Functions{Register: r, Transmission: r, Cleanup: r}) }()
			b.Cleanup(func() { cancel(); <-done })
			plainSrv := &http.Server{Handler: benchtest.PlainEcho()}
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			go func() { _ = plainSrv.Serve(l) }()
			b.Cleanup(func() { _ = plainSrv.Close() })

			var ourLat, plainLat []time.Duration
			ours, plain := benchtest.Interleave(b, benchtest.EchoRound(b, benchtest.Dial(b, srv.URL(), n), &ourLat),
				benchtest.EchoRound(b, benchtest.Dial(b, "ws://"+l.Addr().String()+"/", n), &plainLat), nil)
			b.ReportMetric(float64(plain)/float64(ours), "x-plain")
			b.ReportMetric(float64(benchtest.P99(ourLat))/float64(max(benchtest.P99(plainLat), 1)), "p99-x")
			b.ReportMetric(float64(b.N*n)/ours.Seconds(), "msgs/s")
		})
	}
}

// BenchmarkCrossPush: rounds of 100 pushes from one host instance to a
// connection another instance holds, over redis-server (PushClient.Send →
// SPUBLISH → the other instance → the client), each round ending when the
// client has read all 100, against rounds of 100 bare go-redis PUBLISH to a
// channel whose subscriber reads all 100, interleaved.
func BenchmarkCrossPush(b *testing.B) {
	const perRound = 100
	rs, err := redistest.Start(os.Stderr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(rs.Close)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	b.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()

	far := startInstance(b, rs.Addr) // the instance that holds the connection
	c := benchtest.Dial(b, far.url, 1)[0]
	if err := c.Write(ctx, websocket.MessageText, []byte("me")); err != nil {
		b.Fatal(err)
	}
	_, idb, err := c.Read(ctx)
	if err != nil {
		b.Fatal(err)
	}
	id := string(idb)
	near, err := host.New(&host.Options{Addr: "127.0.0.1:0", Redis: rdb})
	if err != nil {
		b.Fatal(err)
	}
	push, err := scfws.NewPushClient(near.PushURL(), &scfws.PushOptions{HTTPClient: near.Client()})
	if err != nil {
		b.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- near.Serve(sctx, scfws.Functions{}) }()
	b.Cleanup(func() { cancel(); <-served })
	for push.Send(ctx, id, scfws.Text("warm")) != nil { // until near is on the bus
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := c.Read(ctx); err != nil {
		b.Fatal(err)
	}

	sub := rdb.Subscribe(ctx, "bench")
	if _, err := sub.Receive(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sub.Close() })
	msgs := sub.Channel()
	body := `{"websocket":{"action":"data send","secConnectionID":"` + id + `","dataType":"text","data":"a chat message of ordinary length"}}`
	m := scfws.Text("a chat message of ordinary length")

	ours, bare := benchtest.Interleave(b, func() {
		for range perRound {
			if err := push.Send(ctx, id, m); err != nil {
				b.Fatal(err)
			}
		}
		for range perRound {
			if _, _, err := c.Read(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}, func() {
		for range perRound {
			if err := rdb.Publish(ctx, "bench", body).Err(); err != nil {
				b.Fatal(err)
			}
		}
		for range perRound {
			<-msgs
		}
	}, nil)
	b.ReportMetric(float64(bare)/float64(ours), "x-publish")
	b.ReportMetric(float64(b.N*perRound)/ours.Seconds(), "pushes/s")
}

// BenchmarkIdleMemory opens 10,000 idle connections to a host instance and
// to the plain echo server, each in a process of its own, and reports each
// server's resident memory per connection (VmRSS after less before) and
// their ratio. It is also the check that one process holds 10,000.
func BenchmarkIdleMemory(b *testing.B) {
	const n = 10000
	var hostPer, plainPer float64
	for b.Loop() {
		hostPer = rssPerConn(b, startServer(b, "SCFWS_TEST_INSTANCE=-"), n)
		plainPer = rssPerConn(b, startServer(b, "SCFWS_TEST_PLAIN=1"), n)
	}
	b.ReportMetric(hostPer, "host-B/conn")
	b.ReportMetric(plainPer, "plain-B/conn")
	b.ReportMetric(hostPer/plainPer, "x-plain")
}

// BenchmarkDeflateMemory: 1,000 connections to a host instance whose
// register accepts permessage-deflate, each asking for it with context
// takeover and echoing one 32 KB message, against 1,000 that do not ask:
// the server's resident memory per connection (VmRSS after less before).
// The host applies deflate without context takeover, so a connection keeps
// no window between messages.
func BenchmarkDeflateMemory(b *testing.B) {
	const n = 1000
	msg := "echo " + strings.Repeat("a 32 KB message of text that compresses well. ", 800)[:32<<10]
	per := func(mode websocket.CompressionMode) float64 {
		srv := startServer(b, "SCFWS_TEST_INSTANCE=-", "SCFWS_TEST_DEFLATE=1")
		defer func() { _ = srv.cmd.Process.Kill(); _ = srv.cmd.Wait() }()
		time.Sleep(200 * time.Millisecond)
		before := rss(b, srv.cmd.Process.Pid)
		conns := benchtest.DialWith(b, srv.url, n, &websocket.DialOptions{CompressionMode: mode})
		ctx := context.Background()
		var wg sync.WaitGroup
		sem := make(chan struct{}, 32)
		for _, c := range conns {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				c.SetReadLimit(1 << 20)
				if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Error(err)
				}
			})
		}
		wg.Wait()
		time.Sleep(2 * time.Second) // buffers settled
		after := rss(b, srv.cmd.Process.Pid)
		for _, c := range conns {
			_ = c.CloseNow()
		}
		return float64(after-before) / float64(n)
	}
	var deflate, plain float64
	for b.Loop() {
		deflate = per(websocket.CompressionContextTakeover)
		plain = per(websocket.CompressionDisabled)
	}
	b.ReportMetric(deflate, "deflate-B/conn")
	b.ReportMetric(plain, "plain-B/conn")
	b.ReportMetric(deflate/plain, "x-plain")
}

func rssPerConn(b *testing.B, srv *instance, n int) float64 {
	defer func() { _ = srv.cmd.Process.Kill(); _ = srv.cmd.Wait() }()
	time.Sleep(200 * time.Millisecond)
	before := rss(b, srv.cmd.Process.Pid)
	conns := benchtest.Dial(b, srv.url, n)
	time.Sleep(2 * time.Second) // handshakes done, buffers settled
	after := rss(b, srv.cmd.Process.Pid)
	for _, c := range conns {
		_ = c.CloseNow()
	}
	return float64(after-before) / float64(n)
}

// rss reads a process's resident set size, in bytes.
func rss(b *testing.B, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatal("no VmRSS")
	return 0
}

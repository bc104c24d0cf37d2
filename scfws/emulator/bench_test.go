package emulator_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// plainEcho is the baseline: a WebSocket echo server with no gateway, no
// functions, no push.
func plainEcho(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, data, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, data); err != nil {
				return
			}
		}
	}))
	b.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// clients dials n clients to url.
func clients(b *testing.B, url string, n int) []*websocket.Conn {
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, _, err := websocket.Dial(ctx, url, nil)
			if err != nil {
				b.Error(err)
				return
			}
			conns[i] = c
		})
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	b.Cleanup(func() {
		for _, c := range conns {
			_ = c.CloseNow()
		}
	})
	return conns
}

// echoRound has every client send one message and read its echo, all at
// once, and records each round trip.
func echoRound(b *testing.B, conns []*websocket.Conn, lat *[]time.Duration) func() {
	msg := []byte(`{"type":"say","text":"a chat message of ordinary length"}`)
	var mu sync.Mutex
	return func() {
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				t0 := time.Now()
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Error(err)
					return
				}
				d := time.Since(t0)
				mu.Lock()
				*lat = append(*lat, d)
				mu.Unlock()
			})
		}
		wg.Wait()
	}
}

func p99(lat []time.Duration) time.Duration {
	if len(lat) == 0 {
		return 0
	}
	slices.Sort(lat)
	return lat[len(lat)*99/100]
}

// compareEcho alternates echo rounds through the emulator with rounds
// through the plain server, the same number of clients on each; x-plain is
// the emulator's messages/s over the plain server's, p99-x its 99th
// percentile round trip over the plain server's.
func compareEcho(b *testing.B, fns emulator.Functions, n int) {
	s, err := emulator.NewServer(context.Background(), fns, &emulator.Options{InvokeTimeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	var ourLat, plainLat []time.Duration
	ours, plain := benchtest.Interleave(b,
		echoRound(b, clients(b, s.URL(), n), &ourLat), echoRound(b, clients(b, plainEcho(b), n), &plainLat), nil)
	b.ReportMetric(float64(plain)/float64(ours), "x-plain")
	b.ReportMetric(float64(p99(ourLat))/float64(max(p99(plainLat), 1)), "p99-x")
	b.ReportMetric(float64(p99(ourLat).Microseconds()), "p99-µs")
	b.ReportMetric(float64(b.N*n)/ours.Seconds(), "msgs/s")
}

// BenchmarkEcho: client → emulator → transmission function → PushClient
// (default options, the push URL from each invocation's environment) →
// push endpoint → client, against a plain echo server. "inprocess" runs
// the functions as a *scfws.Router in the test process, "binary" runs
// examples/echo as an SCF binary over the runtime protocol, as scfws local
// does.
func BenchmarkEcho(b *testing.B) {
	push, err := scfws.NewPushClientFromEnv(nil)
	if err != nil {
		b.Fatal(err)
	}
	r := &scfws.Router{Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
		return push.Send(ctx, ev.ConnectionID(), ev.Message())
	}}
	inproc := emulator.Functions{Register: r, Transmission: r, Cleanup: r}
	b.Run("inprocess-100", func(b *testing.B) { compareEcho(b, inproc, 100) })
	b.Run("inprocess-1000", func(b *testing.B) { compareEcho(b, inproc, 1000) })
	b.Run("binary-100", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "echo")
		if out, err := exec.Command("go", "build", "-o", bin, "../../examples/echo").CombinedOutput(); err != nil {
			b.Fatal(string(out))
		}
		app := emulator.Binary(bin, nil)
		compareEcho(b, emulator.Functions{Register: app, Transmission: app, Cleanup: app}, 100)
	})
}

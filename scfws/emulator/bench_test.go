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

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// BenchmarkEcho measures echo round trips through the emulator with 100
// clients sending at once: client → transmission function → PushClient →
// push endpoint → client. "inprocess" runs the functions as a *scfws.Router
// in the test process; "binary" runs examples/echo as an SCF binary over the
// runtime protocol. It reports the round trip's p50 and p99 and the
// messages per second across all clients.
func BenchmarkEcho(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		// the baseline: a plain WebSocket echo server, no gateway, no
		// functions, no push
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
		defer srv.Close()
		runEcho(b, "ws"+strings.TrimPrefix(srv.URL, "http"))
	})
	b.Run("inprocess", func(b *testing.B) {
		push, err := scfws.NewPushClientFromEnv(nil) // the URL comes with each invocation
		if err != nil {
			b.Fatal(err)
		}
		r := &scfws.Router{Transmission: func(ctx context.Context, ev *scfws.TransmissionEvent) error {
			return push.Send(ctx, ev.ConnectionID(), ev.Message())
		}}
		benchEcho(b, emulator.Functions{Register: r, Transmission: r, Cleanup: r})
	})
	b.Run("binary", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "echo")
		if out, err := exec.Command("go", "build", "-o", bin, "../../examples/echo").CombinedOutput(); err != nil {
			b.Fatal(string(out))
		}
		app := emulator.Binary(bin, nil)
		benchEcho(b, emulator.Functions{Register: app, Transmission: app, Cleanup: app})
	})
}

func benchEcho(b *testing.B, fns emulator.Functions) {
	ctx := context.Background()
	s, err := emulator.NewServer(ctx, fns, &emulator.Options{InvokeTimeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_ = s.Shutdown(sctx)
	}()
	runEcho(b, s.URL())
}

// runEcho has 100 clients echo b.N messages in all through url.
func runEcho(b *testing.B, url string) {
	const clients = 100
	ctx := context.Background()
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		c, _, err := websocket.Dial(ctx, url, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.CloseNow()
		conns[i] = c
	}
	msg := []byte(`{"type":"say","text":"a chat message of ordinary length"}`)
	var (
		mu  sync.Mutex
		all []time.Duration
		wg  sync.WaitGroup
	)
	per := max(1, b.N/clients)
	b.ResetTimer()
	start := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			lat := make([]time.Duration, 0, per)
			for range per {
				t0 := time.Now()
				if err := c.Write(ctx, websocket.MessageText, msg); err != nil {
					b.Error(err)
					return
				}
				if _, _, err := c.Read(ctx); err != nil {
					b.Error(err)
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(all)
	if len(all) == 0 {
		return
	}
	b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(all))/elapsed.Seconds(), "msgs/s")
}

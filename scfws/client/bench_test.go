package client_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/client"
)

// BenchmarkReliablePush: pushes of a chat-sized message to one
// connection, read by its client, in the reliable mode (package client:
// seqs, acknowledgements, the unacknowledged kept) against a plain
// connection of the same host, rounds interleaved. Each round is a burst
// of 100 pushes, read as they come (its time gives the throughput), then
// 50 pushes one at a time, each read before the next is sent (their push
// to read latencies give the p99). "local": the pushes come from the
// instance that holds the connection; "cross": from another instance, over
// redis-server (the reliable route is its own script: the connection's
// entry, the in-flight count). Both on the bus.
func BenchmarkReliablePush(b *testing.B) {
	for _, where := range []string{"local", "cross"} {
		b.Run(where, func(b *testing.B) {
			_, rdb := startRedis(b)
			a, _ := startHost(b, rdb, testOptions())
			from := a
			if where == "cross" {
				from, _ = startHost(b, rdb, testOptions())
			}
			ctx := context.Background()
			rel, err := client.Dial(ctx, a.srv.URL(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = rel.Close() })
			plain, _, err := websocket.Dial(ctx, a.srv.URL(), nil)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = plain.CloseNow() })
			if err := plain.Write(ctx, websocket.MessageText, []byte("me")); err != nil {
				b.Fatal(err)
			}
			_, pid, err := plain.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			const burst, paced = 100, 50
			m := scfws.Text("a chat message of ordinary length, some sixty bytes or so...")
			type side struct {
				burstTime time.Duration
				lat       []time.Duration
			}
			round := func(id string, read func() error, s *side) func() {
				push := func() {
					if err := from.push.Send(ctx, id, m); err != nil {
						b.Fatal(err)
					}
				}
				return func() {
					t0 := time.Now()
					done := make(chan struct{})
					go func() {
						defer close(done)
						for range burst {
							push()
						}
					}()
					for range burst {
						if err := read(); err != nil {
							b.Fatal(err)
						}
					}
					<-done
					s.burstTime += time.Since(t0)
					for range paced {
						t := time.Now()
						push()
						if err := read(); err != nil {
							b.Fatal(err)
						}
						s.lat = append(s.lat, time.Since(t))
					}
				}
			}
			var ours, base side
			benchtest.Interleave(b,
				round(rel.ID(), func() error { _, _, err := rel.Read(ctx); return err }, &ours),
				round(string(pid), func() error { _, _, err := plain.Read(ctx); return err }, &base), nil)
			b.ReportMetric(float64(base.burstTime)/float64(ours.burstTime), "x-plain")
			b.ReportMetric(float64(benchtest.P99(ours.lat))/float64(max(benchtest.P99(base.lat), 1)), "p99-x")
			b.ReportMetric(float64(benchtest.P99(ours.lat).Microseconds()), "p99-µs")
			b.ReportMetric(float64(b.N*burst)/ours.burstTime.Seconds(), "pushes/s")
		})
	}
}

// BenchmarkParkedMemory: 1,000 reliable connections cut at once and kept
// on redis-server for their window: Redis's used_memory per detached
// connection, with nothing buffered, then with ten 60-byte pushes each
// buffered (what a client misses while it is away).
func BenchmarkParkedMemory(b *testing.B) {
	const n = 1000
	var empty, ten float64
	for b.Loop() {
		_, rdb := startRedis(b)
		a, _ := startHost(b, rdb, testOptions())
		f := startFront(b, hostPort(a.srv.URL()))
		ctx := context.Background()
		conns := make([]*client.Conn, n)
		for i := range conns {
			c, err := client.Dial(ctx, frontURL(f), &client.Options{MinBackoff: time.Hour, MaxBackoff: time.Hour})
			if err != nil {
				b.Fatal(err)
			}
			conns[i] = c
		}
		used := func() float64 {
			info, err := rdb.Info(ctx, "memory").Result()
			if err != nil {
				b.Fatal(err)
			}
			for _, l := range strings.Split(info, "\r\n") {
				if v, ok := strings.CutPrefix(l, "used_memory:"); ok {
					x, _ := strconv.ParseFloat(v, 64)
					return x
				}
			}
			b.Fatal("no used_memory")
			return 0
		}
		before := used()
		f.Cut() // none comes back: the backoff is an hour
		deadline := time.Now().Add(30 * time.Second)
		for a.srv.Open() > 0 || rdb.ZCard(ctx, "scfws:instance:parked").Val() < n {
			if time.Now().After(deadline) {
				b.Fatalf("%d still open, %d parked", a.srv.Open(), rdb.ZCard(ctx, "scfws:instance:parked").Val())
			}
			time.Sleep(20 * time.Millisecond)
		}
		empty = (used() - before) / n
		m := scfws.Text("a chat message of ordinary length, some sixty bytes or so...")
		for range 10 {
			for _, c := range conns {
				if err := a.push.Send(ctx, c.ID(), m); err != nil {
					b.Fatal(err)
				}
			}
		}
		ten = (used() - before) / n
	}
	b.ReportMetric(empty, "B/parked")
	b.ReportMetric(ten, "B/parked+10msgs")
}

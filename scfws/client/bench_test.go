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

// BenchmarkReliablePush: rounds of 100 pushes of a chat-sized message to
// one connection, read by its client, in the reliable mode (package
// client: seqs, acknowledgements, the unacknowledged kept) against a plain
// connection of the same host, rounds interleaved; each message's latency
// is from the start of its push to its read. "local": the pushes come from
// the instance that holds the connection; "cross": from another instance,
// over redis-server (the reliable route is its own script: the
// connection's entry, the in-flight count). Both on the bus.
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
			const perRound = 100
			m := scfws.Text("a chat message of ordinary length, some sixty bytes or so...")
			round := func(id string, read func() error, lat *[]time.Duration) func() {
				return func() {
					starts := make([]time.Time, perRound)
					errs := make(chan error, 1)
					go func() {
						for i := range perRound {
							starts[i] = time.Now()
							if err := from.push.Send(ctx, id, m); err != nil {
								errs <- err
								return
							}
						}
						errs <- nil
					}()
					for i := range perRound {
						if err := read(); err != nil {
							b.Fatal(err)
						}
						*lat = append(*lat, time.Since(starts[i]))
					}
					if err := <-errs; err != nil {
						b.Fatal(err)
					}
				}
			}
			var relLat, plainLat []time.Duration
			ours, base := benchtest.Interleave(b,
				round(rel.ID(), func() error { _, _, err := rel.Read(ctx); return err }, &relLat),
				round(string(pid), func() error { _, _, err := plain.Read(ctx); return err }, &plainLat), nil)
			b.ReportMetric(float64(base)/float64(ours), "x-plain")
			b.ReportMetric(float64(benchtest.P99(relLat))/float64(max(benchtest.P99(plainLat), 1)), "p99-x")
			b.ReportMetric(float64(benchtest.P99(relLat).Microseconds()), "p99-µs")
			b.ReportMetric(float64(b.N*perRound)/ours.Seconds(), "pushes/s")
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

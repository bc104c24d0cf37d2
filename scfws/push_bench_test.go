package scfws_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// The push benchmarks compare scfws, with default options, in one loop with
// a plain net/http client with keep-alive POSTing the same body and
// checking only the status (its idle pool as large as the concurrency), and
// with the seed's way: a new connection per push.

func plainPost(b *testing.B, hc *http.Client, url string, body []byte) {
	resp, err := hc.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
}

var benchBody = []byte(`{"websocket":{"action":"data send","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","dataType":"text","data":"hello"}}`)

func plainClient(pool int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = pool
	return &http.Client{Transport: t}
}

// spread runs n calls of f over g goroutines.
func spread(n, g int, f func()) func() {
	return func() {
		var next atomic.Int64
		var wg sync.WaitGroup
		for range g {
			wg.Go(func() {
				for next.Add(1) <= int64(n) {
					f()
				}
			})
		}
		wg.Wait()
	}
}

// BenchmarkSend alternates rounds of 200 Sends with rounds of 200 plain
// net/http POSTs, from 1 and from 32 goroutines; x-nethttp is scfws's
// throughput over net/http's (1: as fast).
func BenchmarkSend(b *testing.B) {
	g := scfwstest.NewGateway()
	defer g.Close()
	ctx := context.Background()
	for _, goroutines := range []int{1, 32} {
		b.Run(map[int]string{1: "1-goroutine", 32: "32-goroutines"}[goroutines], func(b *testing.B) {
			c, err := scfws.NewPushClient(g.URL, nil)
			if err != nil {
				b.Fatal(err)
			}
			hc := plainClient(goroutines)
			b.ReportAllocs()
			ours, theirs := benchtest.Interleave(b, spread(200, goroutines, func() {
				if err := c.Send(ctx, connID, scfws.Text("hello")); err != nil {
					b.Fatal(err)
				}
			}), spread(200, goroutines, func() { plainPost(b, hc, g.URL, benchBody) }), g.Reset)
			b.ReportMetric(float64(theirs)/float64(ours), "x-nethttp")
			b.ReportMetric(float64(ours)/float64(b.N*200), "ns/push")
		})
	}
	b.Run("vs-seed", func(b *testing.B) {
		c, err := scfws.NewPushClient(g.URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		seed := &http.Client{Transport: tr}
		ours, theirs := benchtest.Interleave(b, spread(50, 1, func() {
			if err := c.Send(ctx, connID, scfws.Text("hello")); err != nil {
				b.Fatal(err)
			}
		}), spread(50, 1, func() { plainPost(b, seed, g.URL, benchBody) }), g.Reset)
		b.ReportMetric(float64(ours)/float64(theirs), "x-seed")
	})
}

// BenchmarkBroadcast alternates a Broadcast to 1,000 connections (default
// Concurrency, 32) with a plain net/http pool of 32 goroutines pushing the
// same 1,000, through a gateway that answers at once and one that adds
// 2 ms; x-pool is the Broadcast's time over the pool's.
func BenchmarkBroadcast(b *testing.B) {
	const n, conc = 1000, 32
	g := scfwstest.NewGateway()
	defer g.Close()
	all := ids(n)
	for _, delay := range []time.Duration{0, 2 * time.Millisecond} {
		b.Run("gateway+"+delay.String(), func(b *testing.B) {
			g.SetDefault(scfwstest.Rule{Delay: delay})
			c, err := scfws.NewPushClient(g.URL, nil)
			if err != nil {
				b.Fatal(err)
			}
			hc := plainClient(conc)
			b.ReportAllocs()
			ours, pool := benchtest.Interleave(b, func() {
				if err := c.Broadcast(context.Background(), all, scfws.Text("hello")); err != nil {
					b.Fatal(err)
				}
			}, func() {
				jobs := make(chan string)
				var wg sync.WaitGroup
				for range conc {
					wg.Go(func() {
						for range jobs {
							plainPost(b, hc, g.URL, benchBody)
						}
					})
				}
				for _, id := range all {
					jobs <- id
				}
				close(jobs)
				wg.Wait()
			}, g.Reset)
			b.ReportMetric(float64(ours)/float64(pool), "x-pool")
		})
	}
}

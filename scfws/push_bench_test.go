package scfws_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// Baselines for the push benchmarks, measured in the same run:
//   - nethttp: a plain net/http client with keep-alive POSTing the same body
//     and checking only the status;
//   - seed: the usage document's way, a new connection per push, one after
//     another.

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

func BenchmarkSend(b *testing.B) {
	g := scfwstest.NewGateway()
	defer g.Close()
	ctx := context.Background()
	b.Run("scfws", func(b *testing.B) {
		c, err := scfws.NewPushClient(g.URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Send(ctx, connID, scfws.Text("hello")); err != nil {
				b.Fatal(err)
			}
		}
		g.Reset()
	})
	b.Run("nethttp", func(b *testing.B) {
		hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
		b.ReportAllocs()
		for b.Loop() {
			plainPost(b, hc, g.URL, benchBody)
		}
		g.Reset()
	})
	b.Run("seed", func(b *testing.B) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		hc := &http.Client{Transport: tr}
		b.ReportAllocs()
		for b.Loop() {
			plainPost(b, hc, g.URL, benchBody)
		}
		g.Reset()
	})
}

// BenchmarkSendInterleaved alternates rounds of 100 Sends with rounds of 100
// plain net/http POSTs to the same gateway, so that both see the same
// machine noise, and reports scfws's throughput relative to net/http
// (x-nethttp: 1.0 is as fast; the target is at least 0.8).
func BenchmarkSendInterleaved(b *testing.B) {
	g := scfwstest.NewGateway()
	defer g.Close()
	c, err := scfws.NewPushClient(g.URL, nil)
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	ctx := context.Background()
	ours, theirs := benchtest.Interleave(b, func() {
		for range 100 {
			if err := c.Send(ctx, connID, scfws.Text("hello")); err != nil {
				b.Fatal(err)
			}
		}
	}, func() {
		for range 100 {
			plainPost(b, hc, g.URL, benchBody)
		}
	}, g.Reset)
	b.ReportMetric(float64(theirs)/float64(ours), "x-nethttp")
}

// BenchmarkBroadcast pushes to 10,000 connections at concurrency 64 through
// a gateway that adds 2 ms to each request. The ideal is
// 10,000 × 2 ms / 64 = 312.5 ms; x-ideal reports elapsed/ideal.
func BenchmarkBroadcast(b *testing.B) {
	const (
		n     = 10000
		conc  = 64
		delay = 2 * time.Millisecond
	)
	ideal := time.Duration(n) * delay / conc
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetDefault(scfwstest.Rule{Delay: delay})
	all := ids(n)
	// cpu-% is the process's CPU use (client and fake gateway together)
	// against all cores: near 100 means the machine, not the client's
	// concurrency, sets the pace.
	report := func(b *testing.B, start time.Time, cpu0 time.Duration) {
		wall := time.Since(start)
		b.ReportMetric(float64(wall/time.Duration(b.N))/float64(ideal), "x-ideal")
		b.ReportMetric(100*float64(cpuTime()-cpu0)/float64(wall)/float64(runtime.GOMAXPROCS(0)), "cpu-%")
	}
	b.Run("scfws", func(b *testing.B) {
		c, err := scfws.NewPushClient(g.URL, &scfws.PushOptions{Concurrency: conc})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		for b.Loop() {
			if err := c.Broadcast(context.Background(), all, scfws.Text("hello")); err != nil {
				b.Fatal(err)
			}
			g.Reset()
		}
		report(b, start, cpu0)
	})
	b.Run("nethttp-pool", func(b *testing.B) {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = conc
		hc := &http.Client{Transport: tr}
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		for b.Loop() {
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
			g.Reset()
		}
		report(b, start, cpu0)
	})
	b.Run("scfws-10ms-2000", func(b *testing.B) {
		// the same ideal (2,000 × 10 ms / 64 = 312.5 ms) at a fifth of the
		// CPU: what the client's scheduling gives when the machine is not
		// the bottleneck
		g.SetDefault(scfwstest.Rule{Delay: 10 * time.Millisecond})
		defer g.SetDefault(scfwstest.Rule{Delay: delay})
		c, err := scfws.NewPushClient(g.URL, &scfws.PushOptions{Concurrency: conc})
		if err != nil {
			b.Fatal(err)
		}
		start, cpu0 := time.Now(), cpuTime()
		for b.Loop() {
			if err := c.Broadcast(context.Background(), all[:2000], scfws.Text("hello")); err != nil {
				b.Fatal(err)
			}
			g.Reset()
		}
		report(b, start, cpu0)
	})
	b.Run("timer-2ms", func(b *testing.B) {
		// what the gateway's 2 ms delay really costs on this machine:
		// ns/op is one 2 ms timer's actual wait
		for b.Loop() {
			t := time.NewTimer(delay)
			<-t.C
		}
	})
	b.Run("seed-sequential-200", func(b *testing.B) {
		// 10,000 sequential pushes would take over 20 s a round: push to 200
		// and report x-ideal scaled to the same 10,000.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.DisableKeepAlives = true
		hc := &http.Client{Transport: tr}
		start := time.Now()
		for b.Loop() {
			for range 200 {
				plainPost(b, hc, g.URL, benchBody)
			}
			g.Reset()
		}
		per := time.Since(start) / time.Duration(b.N) * (n / 200)
		b.ReportMetric(float64(per)/float64(ideal), "x-ideal")
	})
}

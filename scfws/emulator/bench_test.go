package emulator_test

import (
	"context"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// plainEcho serves the baseline echo server for the benchmark.
func plainEcho(b *testing.B) string {
	srv := httptest.NewServer(benchtest.PlainEcho())
	b.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

// compareEcho alternates echo rounds through the emulator with rounds
// through the plain server, the same number of clients on each; x-plain is
// the emulator's messages/s over the plain server's, p99-x its 99th
// percentile round trip over the plain server's.
func compareEcho(b *testing.B, fns scfws.Functions, n int) {
	s, err := emulator.NewServer(context.Background(), fns, &emulator.Options{InvokeTimeout: 30 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	var ourLat, plainLat []time.Duration
	ours, plain := benchtest.Interleave(b,
		benchtest.EchoRound(b, benchtest.Dial(b, s.URL(), n), &ourLat), benchtest.EchoRound(b, benchtest.Dial(b, plainEcho(b), n), &plainLat), nil)
	b.ReportMetric(float64(plain)/float64(ours), "x-plain")
	b.ReportMetric(float64(benchtest.P99(ourLat))/float64(max(benchtest.P99(plainLat), 1)), "p99-x")
	b.ReportMetric(float64(benchtest.P99(ourLat).Microseconds()), "p99-µs")
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
	inproc := scfws.Functions{Register: r, Transmission: r, Cleanup: r}
	b.Run("inprocess-100", func(b *testing.B) { compareEcho(b, inproc, 100) })
	b.Run("inprocess-1000", func(b *testing.B) { compareEcho(b, inproc, 1000) })
	b.Run("binary-100", func(b *testing.B) {
		bin := filepath.Join(b.TempDir(), "echo")
		if out, err := exec.Command("go", "build", "-o", bin, "../../examples/echo").CombinedOutput(); err != nil {
			b.Fatal(string(out))
		}
		app := emulator.Binary(bin, nil)
		compareEcho(b, scfws.Functions{Register: app, Transmission: app, Cleanup: app}, 100)
	})
}

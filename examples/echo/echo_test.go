package main

import (
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/benchtest"
	"github.com/scfws/scfws-go/internal/scfrpc"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

// TestEchoStartedAsSCF starts the echo binary as SCF may: no push URL in
// its process environment, _LAMBDA_SERVER_PORT set, the environment in each
// InvokeRequest. It echoes.
func TestEchoStartedAsSCF(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "echo")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	t.Setenv("SCFWS_PUSH_URL", "")
	t.Setenv("wsBackUrl", "")
	p, err := scfrpc.StartProcess(context.Background(), bin, nil, nil)
	require.NoError(t, err, "main does not fail without a push URL")
	defer p.Close()

	g := scfwstest.NewGateway()
	defer g.Close()
	payload, err := json.Marshal(scfwstest.NewTransmissionEvent("CQ1RaJAf4vzaVAkNUdHLZA==", scfws.Text("hello")))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := p.Invoke(ctx, scfrpc.Request{Payload: payload, RequestID: "r1", FunctionName: "echo",
		Environment: map[string]string{"SCFWS_PUSH_URL": g.URL}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"errNo":0,"errMsg":"ok"}`, string(answer))
	pushes := g.PushesTo("CQ1RaJAf4vzaVAkNUdHLZA==")
	require.Len(t, pushes, 1)
	assert.Equal(t, scfws.Text("hello"), pushes[0].Message)
}

// BenchmarkColdStart alternates starting the echo binary (scfws, resty and
// their dependencies inside) until it answers the runtime's Ping with
// starting a bare scf-go-lib function (internal/scfrpc/testdata/fn);
// x-hello is the echo binary's start time over the bare one's.
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	echo, hello := filepath.Join(dir, "echo"), filepath.Join(dir, "hello")
	for bin, pkg := range map[string]string{echo: ".", hello: "../../internal/scfrpc/testdata/fn"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			b.Fatal(string(out))
		}
	}
	start := func(bin string) func() {
		return func() {
			p, err := scfrpc.StartProcess(context.Background(), bin, nil, nil)
			if err != nil {
				b.Fatal(err)
			}
			_ = p.Close()
		}
	}
	ours, bare := benchtest.Interleave(b, start(echo), start(hello), nil)
	b.ReportMetric(float64(ours)/float64(bare), "x-hello")
	b.ReportMetric(float64(ours.Microseconds())/float64(b.N), "µs/start")
}

package seed_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/scfrpc"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/scfwstest"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binaries builds the three seed functions once per test run.
func binaries(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "scfws-seed-")
		if buildErr != nil {
			return
		}
		for _, name := range []string{"register", "transmission", "cleanup"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "./"+name).CombinedOutput()
			if err != nil {
				buildErr = errors.New(string(out))
				return
			}
		}
	})
	require.NoError(t, buildErr)
	return binDir
}

func start(t *testing.T, name string, env ...string) *scfrpc.Process {
	t.Helper()
	p, err := scfrpc.StartProcess(context.Background(), filepath.Join(binaries(t), name), env, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

func invoke(t *testing.T, p *scfrpc.Process, payload []byte, env map[string]string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.Invoke(ctx, scfrpc.Request{Payload: payload, RequestID: "seed-test", FunctionName: "seed", Environment: env})
}

func TestRegisterOverRuntime(t *testing.T) {
	p := start(t, "register")
	cases := map[string]struct {
		payload []byte
		want    string
	}{
		"supported subprotocol": {payloadOf(offering("CQ1RaJAf4vzaVAkNUdHLZA==", "binary,chat", "permessage-deflate")),
			`{"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"CQ1RaJAf4vzaVAkNUdHLZA==","secWebSocketProtocol":"chat"}}`},
		"no offer": {payloadOf(scfwstest.NewRegisterEvent("k+/9aJAf4vzaVAkNUdHLZA==")),
			`{"errNo":0,"errMsg":"ok","websocket":{"action":"connecting","secConnectionID":"k+/9aJAf4vzaVAkNUdHLZA=="}}`},
		"console template": {payloadOf(&scfws.RegisterEvent{WebSocket: scfws.RegisterWebSocket{Action: scfws.ActionConnecting, SecConnectionID: "x"}}),
			`{"errNo":101,"errMsg":"not found request context"}`},
		"no websocket": {[]byte(`{"requestContext":{}}`), `{"errNo":102,"errMsg":"not found websocket"}`},
		"not json":     {[]byte(`{`), `{"errNo":103,"errMsg":"malformed event"}`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := invoke(t, p, tc.payload, nil)
			require.NoError(t, err)
			assert.JSONEq(t, tc.want, string(out))
		})
	}
}

func TestTransmissionForwardsOverRuntime(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	g.SetRule("gone", scfwstest.Rule{Status: 400, ErrNo: 1})
	env := map[string]string{"SCFWS_PUSH_URL": g.URL}

	p := start(t, "transmission")
	text := payloadOf(scfwstest.NewTransmissionEvent("sender+/=", scfws.Text("hello")))
	_, err := invoke(t, p, text, env)
	require.NoError(t, err)
	_, err = invoke(t, p, payloadOf(scfwstest.NewTransmissionEvent("sender+/=", scfws.Binary([]byte{0, 0xff}))), env)
	require.NoError(t, err)
	_, err = invoke(t, p, []byte(`{"websocket":{"action":"data recv","secConnectionID":"sender+/=","dataType":"text","data":"old"}}`), env)
	require.NoError(t, err)

	pushes := g.PushesTo("sender+/=")
	require.Len(t, pushes, 3)
	assert.Equal(t, []scfws.Message{scfws.Text("hello"), scfws.Binary([]byte{0, 0xff}), scfws.Text("old")},
		[]scfws.Message{pushes[0].Message, pushes[1].Message, pushes[2].Message})

	target := start(t, "transmission", "TARGET_CONNECTION_ID=other")
	_, err = invoke(t, target, text, env)
	require.NoError(t, err)
	assert.Len(t, g.PushesTo("other"), 1)

	// a failed push and a malformed event fail the invocation
	_, err = invoke(t, p, payloadOf(scfwstest.NewTransmissionEvent("gone", scfws.Text("x"))), env)
	fe, ok := errors.AsType[*scfrpc.FunctionError](err)
	require.True(t, ok, "%v", err)
	assert.Contains(t, fe.Message, "push refused")
	_, err = invoke(t, p, []byte(`{"websocket":{}}`), env)
	_, ok = errors.AsType[*scfrpc.FunctionError](err)
	require.True(t, ok, "%v", err)
}

// TestTransmissionPushURLAtFirstUse: started as SCF may start it, with no
// push URL in the process environment: an invocation without one fails
// naming the variables, and the next, which carries it, pushes.
func TestTransmissionPushURLAtFirstUse(t *testing.T) {
	g := scfwstest.NewGateway()
	defer g.Close()
	p := start(t, "transmission", "SCFWS_PUSH_URL=", "wsBackUrl=")
	text := payloadOf(scfwstest.NewTransmissionEvent("a", scfws.Text("hello")))
	_, err := invoke(t, p, text, nil)
	fe, ok := errors.AsType[*scfrpc.FunctionError](err)
	require.True(t, ok, "%v", err)
	assert.Contains(t, fe.Message, "SCFWS_PUSH_URL")
	_, err = invoke(t, p, text, map[string]string{"wsBackUrl": g.URL})
	require.NoError(t, err)
	assert.Len(t, g.PushesTo("a"), 1)
}

func TestCleanupOverRuntime(t *testing.T) {
	p := start(t, "cleanup")
	out, err := invoke(t, p, payloadOf(scfwstest.NewCleanupEvent("CQ1RaJAf4vzaVAkNUdHLZA==")), nil)
	require.NoError(t, err)
	assert.JSONEq(t, `{"errNo":0,"errMsg":"ok"}`, string(out))
	_, err = invoke(t, p, []byte(`{"websocket":{"action":"connecting","secConnectionID":"x"}}`), nil)
	_, ok := errors.AsType[*scfrpc.FunctionError](err)
	require.True(t, ok, "%v", err)
}

// payloadOf is the JSON the gateway sends for ev.
func payloadOf(ev any) []byte {
	b, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return b
}

// offering is a register event whose client offered these headers.
func offering(id, protocols, extensions string) *scfws.RegisterEvent {
	ev := scfwstest.NewRegisterEvent(id)
	ev.WebSocket.SecWebSocketProtocol, ev.WebSocket.SecWebSocketExtensions = protocols, extensions
	return ev
}

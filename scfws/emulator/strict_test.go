package emulator_test

import (
	"context"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// TestFailedPushDropsClient: after a push answered 400 the gateway has
// dropped the client; KeepClientOnFailedPush keeps it.
func TestFailedPushDropsClient(t *testing.T) {
	for _, keep := range []bool{false, true} {
		s, a := start(t, &emulator.Options{KeepClientOnFailedPush: keep}, nil, nil)
		c := dial(t, s)
		id := a.lastRegister().ConnectionID()
		resp, err := http.Post(s.PushURL(), "application/json",
			strings.NewReader(`{"websocket":{"action":"data send","secConnectionID":"`+id+`","dataType":"binary","data":"!"}}`))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		err = a.push.Send(context.Background(), id, scfws.Text("after"))
		if keep {
			require.NoError(t, err)
			_, got := read(t, c)
			assert.Equal(t, "after", got)
			continue
		}
		require.ErrorIs(t, err, scfws.ErrPushRefused, "the client is gone")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _, err = c.Read(ctx)
		cancel()
		require.Error(t, err)
		assert.Equal(t, websocket.StatusCode(-1), websocket.CloseStatus(err), "no close frame: %v", err)
	}
}

// TestExtensionPassedThroughNotApplied: a permessage-deflate the register
// function accepts is answered in the handshake; by default it is not
// applied, so a client that compresses fails (as it may at the gateway);
// with ApplyExtensions it is.
func TestExtensionPassedThroughNotApplied(t *testing.T) {
	regOpts := &scfws.RegisterOptions{Extensions: []string{"permessage-deflate"}}
	big := strings.Repeat("compressible ", 200)
	for _, apply := range []bool{false, true} {
		s, _ := start(t, &emulator.Options{ApplyExtensions: apply}, regOpts, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, resp, err := websocket.Dial(ctx, s.URL(), &websocket.DialOptions{CompressionMode: websocket.CompressionContextTakeover})
		require.NoError(t, err)
		assert.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate", "answered either way")
		require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(big)))
		_, got, err := c.Read(ctx)
		if apply {
			require.NoError(t, err)
			assert.Equal(t, big, string(got))
		} else {
			require.Error(t, err, "compressed frames are not understood")
		}
		_ = c.CloseNow()
		cancel()
	}
}

// TestEnvironmentOnlyPerInvocation: a function binary finds the push URL
// in the environment of each invocation, not at start (EnvAtStart adds it).
func TestEnvironmentOnlyPerInvocation(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "envecho")
	out, err := exec.Command("go", "build", "-o", bin, "./testdata/envecho").CombinedOutput()
	require.NoError(t, err, string(out))
	t.Setenv("SCFWS_PUSH_URL", "")
	t.Setenv("wsBackUrl", "")
	for _, atStart := range []bool{false, true} {
		fn := emulator.Binary(bin, nil)
		s, err := emulator.NewServer(context.Background(), scfws.Functions{Register: fn, Transmission: fn, Cleanup: fn},
			&emulator.Options{EnvAtStart: atStart})
		require.NoError(t, err)
		c := dial(t, s)
		require.NoError(t, c.Write(context.Background(), websocket.MessageText, []byte("hi")))
		_, got := read(t, c)
		want := "atStart="
		if atStart {
			want += s.PushURL()
		}
		assert.Equal(t, want, got, "EnvAtStart %v: the push went through either way", atStart)
		require.NoError(t, s.Shutdown(context.Background()))
	}
}

package emulator_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

func TestPlainHTTPIsNotAConnection(t *testing.T) {
	s, a := start(t, nil, nil, nil)
	resp, err := http.Get("http" + strings.TrimPrefix(s.URL(), "ws"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Empty(t, a.registers, "the register function is not invoked")
}

func TestMaxConnections(t *testing.T) {
	s, _ := start(t, &emulator.Options{MaxConnections: 2}, nil, nil)
	dial(t, s)
	dial(t, s)
	_, resp, err := websocket.Dial(context.Background(), s.URL(), nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

// TestManyClientsEcho: 1,000 clients at once each echo 10 messages; nothing
// is lost or crossed.
func TestManyClientsEcho(t *testing.T) {
	const clients, messages = 1000, 10
	s, a := start(t, &emulator.Options{InvokeTimeout: 30 * time.Second}, nil, nil)
	a.push, _ = scfws.NewPushClient(s.PushURL(), &scfws.PushOptions{Timeout: 30 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	dialing := make(chan struct{}, 64) // all clients connected at once, not all handshakes at once
	for i := range clients {
		wg.Go(func() {
			dialing <- struct{}{}
			c, _, err := websocket.Dial(ctx, s.URL(), nil)
			<-dialing
			if err != nil {
				errs <- err
				return
			}
			defer c.CloseNow()
			for j := range messages {
				want := fmt.Sprintf("client %d message %d", i, j)
				if err := c.Write(ctx, websocket.MessageText, []byte(want)); err != nil {
					errs <- err
					return
				}
				_, got, err := c.Read(ctx)
				if err != nil {
					errs <- err
					return
				}
				if string(got) != want {
					errs <- fmt.Errorf("got %q, want %q", got, want)
					return
				}
			}
			_ = c.Close(websocket.StatusNormalClosure, "")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	a.mu.Lock()
	assert.Len(t, a.messages, clients*messages)
	a.mu.Unlock()
	eventually(t, func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		return len(a.cleanups) == clients
	}, "every client cleaned up")
}

func TestLifecycle(t *testing.T) {
	s, err := emulator.NewUnstartedServer(nil)
	require.NoError(t, err)
	assert.Regexp(t, `^ws://127\.0\.0\.1:\d+/release/websocket$`, s.URL(), "known before Start")
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+/api-local$`, s.PushURL())
	require.NoError(t, s.Shutdown(context.Background()), "Shutdown before Start frees the port")
	require.Error(t, s.Start(context.Background(), scfws.Functions{}), "no Start after Shutdown")

	_, err = emulator.NewServer(context.Background(), scfws.Functions{Register: emulator.Binary("/nonexistent/fn", nil)}, nil)
	require.ErrorContains(t, err, "/nonexistent/fn", "a binary that cannot start is named")

	_, err = emulator.NewServer(context.Background(), scfws.Functions{}, &emulator.Options{Addr: "256.0.0.1:0"})
	require.Error(t, err)

	page := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("page")) })
	s, err = emulator.NewServer(context.Background(), scfws.Functions{}, &emulator.Options{Handler: page})
	require.NoError(t, err)
	defer s.Shutdown(context.Background())
	require.Error(t, s.Start(context.Background(), scfws.Functions{}), "no second Start")
	resp, err := http.Get("http://" + s.Addr() + "/index.html")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, "page", string(body), "Options.Handler serves the other paths")
}

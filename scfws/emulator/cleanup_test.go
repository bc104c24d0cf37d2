package emulator_test

import (
	"context"
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

// closeWays are the ways a connection ends: each closes c and returns the
// close code the client should read (-1: none), and whether the client
// started the close.
func closeWays(a *app) map[string]func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
	ctx := context.Background()
	return map[string]func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool){
		"client closes": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			require.NoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
			return -1, true
		},
		"client vanishes": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			require.NoError(t, c.CloseNow())
			return -1, true
		},
		"closing push": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			require.NoError(t, a.push.Disconnect(ctx, id))
			return websocket.StatusNormalClosure, false
		},
		"idle timeout": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			return websocket.StatusGoingAway, false
		},
		"failed invocation": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("fail")))
			return -1, false // dropped without a close frame
		},
		"failed push": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			err := a.push.Send(ctx, id, scfws.Message{DataType: scfws.DataBinary, Data: "AA=="})
			require.NoError(t, err)
			resp, err := http.Post(a.pushURL, "application/json",
				strings.NewReader(`{"websocket":{"action":"data send","secConnectionID":"`+id+`","dataType":"binary","data":"!"}}`))
			require.NoError(t, err)
			resp.Body.Close()
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			return -1, false // dropped without a close frame, after the first push arrived
		},
		"message too big": func(t *testing.T, c *websocket.Conn, id string) (websocket.StatusCode, bool) {
			_ = c.Write(ctx, websocket.MessageText, make([]byte, 2048))
			return websocket.StatusMessageTooBig, false
		},
	}
}

// TestCleanupOnlyForClientCloses closes connections every way there is and
// counts cleanups: by default one for the closes the client starts and none
// for the others, as Tencent documents; with CleanupOnServerClose one for
// every close. Never two.
func TestCleanupOnlyForClientCloses(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		t.Run(map[bool]string{false: "strict", true: "CleanupOnServerClose"}[lenient], func(t *testing.T) {
			s, a := start(t, &emulator.Options{IdleTimeout: 300 * time.Millisecond, MaxMessageSize: 1024,
				CleanupOnServerClose: lenient}, nil, nil)
			a.failOn = "fail"
			ctx := context.Background()
			for name, way := range closeWays(a) {
				t.Run(name, func(t *testing.T) {
					c := dial(t, s)
					id := a.lastRegister().ConnectionID()
					wantCode, byClient := way(t, c, id)
					rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					for err := error(nil); err == nil; { // the push that preceded the drop may be read first
						_, _, err = c.Read(rctx)
						if err != nil && wantCode != -1 {
							assert.Equal(t, wantCode, websocket.CloseStatus(err), "%v", err)
						}
					}
					cancel()
					want := 0
					if byClient || lenient {
						want = 1
					}
					eventually(t, func() bool {
						return a.cleanupCount(id) == want && a.push.Send(ctx, id, scfws.Text("late")) != nil
					}, "the connection is gone")
					time.Sleep(100 * time.Millisecond)
					assert.Equal(t, want, a.cleanupCount(id), "cleanups")
					require.ErrorIs(t, a.push.Send(ctx, id, scfws.Text("late")), scfws.ErrPushRefused, "a closed connection is gone")
				})
			}
		})
	}
}

// TestShutdownCleanup: shutdown closes every client with 1001; cleanup runs
// for them only with CleanupOnServerClose.
func TestShutdownCleanup(t *testing.T) {
	for _, lenient := range []bool{false, true} {
		s, a := start(t, &emulator.Options{CleanupOnServerClose: lenient}, nil, nil)
		var ids []string
		var conns []*websocket.Conn
		for range 5 {
			conns = append(conns, dial(t, s))
			ids = append(ids, a.lastRegister().ConnectionID())
		}
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		codes := make([]websocket.StatusCode, len(conns))
		var readers sync.WaitGroup
		for i, c := range conns {
			readers.Go(func() {
				_, _, err := c.Read(sctx)
				codes[i] = websocket.CloseStatus(err)
			})
		}
		require.NoError(t, s.Shutdown(sctx))
		readers.Wait()
		cancel()
		want := map[bool]int{false: 0, true: 1}[lenient]
		for i, id := range ids {
			assert.Equal(t, want, a.cleanupCount(id), "cleanups for %s (CleanupOnServerClose %v)", id, lenient)
			assert.Equal(t, websocket.StatusGoingAway, codes[i])
		}
	}
}

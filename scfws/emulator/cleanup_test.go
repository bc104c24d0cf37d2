package emulator_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// TestCleanupOncePerConnection closes connections every way there is and
// counts cleanups.
func TestCleanupOncePerConnection(t *testing.T) {
	s, a := start(t, &emulator.Options{IdleTimeout: 300 * time.Millisecond, MaxMessageSize: 1024}, nil, nil)
	a.failOn = "fail"
	ctx := context.Background()
	ways := map[string]func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode{
		"client closes": func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode {
			require.NoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
			return -1
		},
		"client vanishes": func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode {
			require.NoError(t, c.CloseNow())
			return -1
		},
		"closing push": func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode {
			require.NoError(t, a.push.Disconnect(ctx, id))
			return websocket.StatusNormalClosure
		},
		"idle timeout": func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode {
			return websocket.StatusGoingAway
		},
		"failed invocation": func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode {
			require.NoError(t, c.Write(ctx, websocket.MessageText, []byte("fail")))
			return -1 // dropped without a close frame
		},
		"message too big": func(t *testing.T, c *websocket.Conn, id string) websocket.StatusCode {
			_ = c.Write(ctx, websocket.MessageText, make([]byte, 2048))
			return websocket.StatusMessageTooBig
		},
	}
	for name, way := range ways {
		t.Run(name, func(t *testing.T) {
			c := dial(t, s)
			id := a.lastRegister().ConnectionID()
			wantCode := way(t, c, id)
			if wantCode != -1 {
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, _, err := c.Read(rctx)
				cancel()
				assert.Equal(t, wantCode, websocket.CloseStatus(err), "%v", err)
			}
			eventually(t, func() bool { return a.cleanupCount(id) == 1 }, "cleanup once")
			time.Sleep(50 * time.Millisecond)
			assert.Equal(t, 1, a.cleanupCount(id), "and only once")
			err := a.push.Send(ctx, id, scfws.Text("late"))
			require.ErrorIs(t, err, scfws.ErrPushRefused, "a closed connection is gone")
		})
	}
	t.Run("shutdown", func(t *testing.T) {
		s2, a2 := start(t, nil, nil, nil)
		var ids []string
		var conns []*websocket.Conn
		for range 5 {
			conns = append(conns, dial(t, s2))
			ids = append(ids, a2.lastRegister().ConnectionID())
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		codes := make([]websocket.StatusCode, len(conns))
		var readers sync.WaitGroup
		for i, c := range conns {
			readers.Go(func() {
				_, _, err := c.Read(sctx)
				codes[i] = websocket.CloseStatus(err)
			})
		}
		require.NoError(t, s2.Shutdown(sctx))
		readers.Wait()
		for i, id := range ids {
			assert.Equal(t, 1, a2.cleanupCount(id), "shutdown runs cleanup for %s", id)
			assert.Equal(t, websocket.StatusGoingAway, codes[i])
		}
	})
}

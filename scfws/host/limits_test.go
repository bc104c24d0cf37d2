package host_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/host"
)

// TestLimits: the host's limits that TestCleanupExactlyOnce does not
// reach, each with its documented answer.
func TestLimits(t *testing.T) {
	t.Run("bytes per second", func(t *testing.T) {
		// the burst is a second's worth or one message of MaxMessageSize
		s, a := start(t, &host.Options{MaxBytesPerSecond: 1000, MaxMessageSize: 1000, MaxMessagesPerSecond: -1}, nil)
		c := dial(t, s.URL())
		id := a.lastRegister().ConnectionID()
		for range 4 {
			if c.Write(context.Background(), websocket.MessageText, []byte(strings.Repeat("x", 600))) != nil {
				break
			}
		}
		assert.Equal(t, websocket.StatusPolicyViolation, closeCode(t, c))
		assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 5*time.Second, 5*time.Millisecond)
	})
	t.Run("idle timeout", func(t *testing.T) {
		s, a := start(t, &host.Options{IdleTimeout: 300 * time.Millisecond}, nil)
		c := dial(t, s.URL())
		id := a.lastRegister().ConnectionID()
		assert.Equal(t, websocket.StatusNormalClosure, closeCode(t, c))
		assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 5*time.Second, 5*time.Millisecond)
	})
	t.Run("connections per process", func(t *testing.T) {
		s, _ := start(t, &host.Options{MaxConnections: 2}, nil)
		dial(t, s.URL())
		dial(t, s.URL())
		_, resp, err := websocket.Dial(context.Background(), s.URL(), nil)
		require.Error(t, err)
		assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	})
	t.Run("not UTF-8", func(t *testing.T) {
		s, a := start(t, nil, nil)
		c := dial(t, s.URL())
		id := a.lastRegister().ConnectionID()
		require.NoError(t, c.Write(context.Background(), websocket.MessageText, []byte("\xff")))
		assert.Equal(t, websocket.StatusInvalidFramePayloadData, closeCode(t, c))
		assert.Eventually(t, func() bool { return a.cleanupCount(id) == 1 }, 5*time.Second, 5*time.Millisecond)
	})
}

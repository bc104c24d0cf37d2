package host_test

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoLeakAfterCycles: 1,000 connect / message / disconnect cycles, half
// closed by the client and half by a closing push, leave no goroutine or
// file descriptor behind.
func TestNoLeakAfterCycles(t *testing.T) {
	s, a := start(t, nil, nil)
	ctx := context.Background()
	cycle := func(i int) {
		c, _, err := websocket.Dial(ctx, s.URL(), nil)
		require.NoError(t, err)
		defer c.CloseNow()
		if i%2 == 0 {
			write(t, c, "ping")
			read(t, c)
			require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
			return
		}
		write(t, c, "bye")
		closeCode(t, c)
	}
	cycle(0)
	cycle(1)
	settle := func() { time.Sleep(50 * time.Millisecond); runtime.GC() }
	settle()
	goroutines, fds := runtime.NumGoroutine(), openFDs(t)
	for i := range 1000 {
		cycle(i)
	}
	ok := assert.Eventually(t, func() bool {
		settle()
		return runtime.NumGoroutine() <= goroutines+5 && openFDs(t) <= fds+5 && s.Open() == 0
	}, 10*time.Second, 100*time.Millisecond)
	if !ok {
		buf := make([]byte, 1<<20)
		t.Logf("goroutines %d (were %d), fds %d (were %d), open %d\n%s", runtime.NumGoroutine(), goroutines,
			openFDs(t), fds, s.Open(), buf[:runtime.Stack(buf, true)])
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	assert.Len(t, a.cleanups, 1002, "one cleanup per connection")
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/proc/self/fd")
	require.NoError(t, err)
	return len(entries)
}

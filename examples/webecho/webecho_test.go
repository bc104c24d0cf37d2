package main

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWebEcho runs the binary as a Web function would (PORT set), echoes
// through it with the negotiated subprotocol, and stops it with SIGTERM:
// the client is told 1001 and the process exits 0.
func TestWebEcho(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "webecho")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADDR="+addr)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	var c *websocket.Conn
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		c, _, err = websocket.Dial(ctx, "ws://"+addr+"/", &websocket.DialOptions{Subprotocols: []string{"mqtt", "echo"}})
		return err == nil
	}, 30*time.Second, 20*time.Millisecond)
	defer c.CloseNow()
	assert.Equal(t, "echo", c.Subprotocol())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, typ := range []websocket.MessageType{websocket.MessageText, websocket.MessageBinary} {
		require.NoError(t, c.Write(ctx, typ, []byte("hello\x00")))
		got, b, err := c.Read(ctx)
		require.NoError(t, err)
		assert.Equal(t, typ, got)
		assert.Equal(t, "hello\x00", string(b))
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	_, _, err = c.Read(ctx)
	assert.Equal(t, websocket.StatusGoingAway, websocket.CloseStatus(err))
	require.NoError(t, cmd.Wait(), "exits 0 after a clean shutdown")
}

package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestRooms runs the README's app as a user would and talks to it: two
// people in the lobby hear each other, one who moves does not, and the one
// who leaves is announced; a connection without a user is refused.
func TestRooms(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "rooms")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADDR=127.0.0.1:0", "REDIS_URL=")
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if _, u, ok := strings.Cut(sc.Text(), "rooms on "); ok {
				u, _, _ = strings.Cut(u, "?")
				base <- u
			}
		}
	}()
	var url string
	select {
	case url = <-base:
	case <-time.After(30 * time.Second):
		t.Fatal("rooms did not start")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	dial := func(query string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, url+query, nil)
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.CloseNow() })
		return c
	}
	read := func(c *websocket.Conn) string {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		return string(b)
	}
	send := func(c *websocket.Conn, s string) { require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(s))) }

	_, resp, err := websocket.Dial(ctx, url, nil)
	require.Error(t, err, "no user")
	assert.Equal(t, 403, resp.StatusCode)

	ann, bob, cat := dial("?user=ann"), dial("?user=bob&room=lobby"), dial("?user=cat")
	send(ann, `{"action":"say","text":"hi all"}`)
	for _, c := range []*websocket.Conn{ann, bob, cat} {
		assert.JSONEq(t, `{"from":"ann","text":"hi all"}`, read(c))
	}
	send(cat, `{"action":"join","room":"games"}`)
	send(cat, `{"action":"say","text":"anyone here?"}`)
	assert.JSONEq(t, `{"from":"cat","text":"anyone here?"}`, read(cat), "alone in games")
	send(bob, `{"action":"say","text":"cat left us"}`)
	assert.JSONEq(t, `{"from":"bob","text":"cat left us"}`, read(ann))
	assert.JSONEq(t, `{"from":"bob","text":"cat left us"}`, read(bob))
	require.NoError(t, bob.Close(websocket.StatusNormalClosure, ""))
	assert.JSONEq(t, `{"left":"bob"}`, read(ann))
	send(ann, `{"action":"dance"}`)
	assert.Contains(t, read(ann), "unknown action")
}

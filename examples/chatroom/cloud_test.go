package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws"
	"github.com/scfws/scfws-go/scfws/emulator"
)

// TestCloudMode runs the chat room binary as SCF runs it — over the runtime
// protocol, with REDIS_ADDR and the push URL in its environment — behind the
// emulator, and chats through it: the cloud path end to end, on Redis.
func TestCloudMode(t *testing.T) {
	rs, err := redistest.Start(os.Stderr)
	require.NoError(t, err)
	defer rs.Close()
	t.Setenv("REDIS_ADDR", rs.Addr)
	t.Setenv("REDIS_PREFIX", "chat-test")

	bin := filepath.Join(t.TempDir(), "chatroom")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))

	app := emulator.Binary(bin, os.Stderr)
	srv, err := emulator.NewServer(context.Background(), scfws.Functions{Register: app, Transmission: app, Cleanup: app},
		&emulator.Options{InvokeTimeout: 10 * time.Second})
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})

	ann := join(t, srv.URL(), "ann")
	bob := join(t, srv.URL(), "bob")
	assert.Equal(t, 2, ann.expectText("bob joined lobby").Members)
	bob.send(clientMsg{Type: "say", Text: "hello from the cloud path"})
	assert.Equal(t, serverMsg{Type: "message", Room: "lobby", From: "bob", Text: "hello from the cloud path"}, ann.expect("message"))

	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rdb.Close()
	n, err := rdb.ZCard(context.Background(), "chat-test:room:{lobby}").Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "the room lives in Redis")

	require.NoError(t, bob.c.Close(1000, ""))
	assert.Equal(t, 1, ann.expectText("bob left lobby").Members)

	// two browser tabs, the page served apart (as a static site would be)
	t.Run("Browser", func(t *testing.T) {
		chromium(t)
		t.Setenv("REDIS_PREFIX", "chat-test-browser")
		app := emulator.Binary(bin, os.Stderr)
		srv, err := emulator.NewServer(context.Background(), scfws.Functions{Register: app, Transmission: app, Cleanup: app},
			&emulator.Options{InvokeTimeout: 10 * time.Second})
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
		static := httptest.NewServer(page) // index.html and scfws.js, as a static site would serve them
		t.Cleanup(static.Close)
		at := place{static.URL, srv.URL()}
		twoTabs(t, at, at)
	})

	// the strict emulator with a short backend timeout, on the same binary
	t.Run("HeadCounts", func(t *testing.T) {
		t.Setenv("REDIS_PREFIX", "chat-test-headcounts")
		app := emulator.Binary(bin, os.Stderr)
		srv, err := emulator.NewServer(context.Background(), scfws.Functions{Register: app, Transmission: app, Cleanup: app},
			&emulator.Options{InvokeTimeout: 10 * time.Second, IdleTimeout: testIdle})
		require.NoError(t, err)
		t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
		checkHeadCounts(t, srv)
	})
}

func TestRedisOptions(t *testing.T) {
	for _, k := range []string{"REDIS_URL", "REDIS_ADDR", "REDIS_PASSWORD", "REDIS_DB"} {
		t.Setenv(k, "")
	}
	_, err := redisOptions()
	require.ErrorContains(t, err, "REDIS_URL or REDIS_ADDR")

	t.Setenv("REDIS_URL", "redis://:secret@10.0.0.5:6380/3")
	o, err := redisOptions()
	require.NoError(t, err)
	assert.Equal(t, "10.0.0.5:6380", o.Addr)
	assert.Equal(t, "secret", o.Password)
	assert.Equal(t, 3, o.DB)
	t.Setenv("REDIS_URL", "http://nope")
	_, err = redisOptions()
	require.ErrorContains(t, err, "REDIS_URL")

	t.Setenv("REDIS_URL", "")
	t.Setenv("REDIS_ADDR", "10.0.0.5:6379")
	t.Setenv("REDIS_DB", "two")
	_, err = redisOptions()
	require.ErrorContains(t, err, `REDIS_DB "two"`, "a bad REDIS_DB stops start-up instead of meaning 0")
	t.Setenv("REDIS_DB", "2")
	o, err = redisOptions()
	require.NoError(t, err)
	assert.Equal(t, 2, o.DB)
}

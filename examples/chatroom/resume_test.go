package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/internal/redistest"
	"github.com/scfws/scfws-go/scfws/client"
)

// reliableUser is a chat participant on the Go client of the reliable mode.
type reliableUser struct {
	t *testing.T
	c *client.Conn
}

func joinReliable(t *testing.T, wsURL, nick string) *reliableUser {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, wsURL, &client.Options{Subprotocols: []string{Subprotocol}})
	require.NoError(t, err)
	require.True(t, c.Reliable())
	t.Cleanup(func() { _ = c.Close() })
	u := &reliableUser{t, c}
	u.send(clientMsg{Type: "hello", Nick: nick})
	u.expect("welcome")
	return u
}

func (u *reliableUser) send(m clientMsg) {
	b, _ := json.Marshal(m)
	require.NoError(u.t, u.c.Write(context.Background(), websocket.MessageText, b))
}

func (u *reliableUser) next() serverMsg {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := u.c.Read(ctx)
	require.NoError(u.t, err)
	var m serverMsg
	require.NoError(u.t, json.Unmarshal(b, &m), string(b))
	return m
}

func (u *reliableUser) expect(typ string) serverMsg {
	u.t.Helper()
	for {
		if m := u.next(); m.Type == typ {
			return m
		}
	}
}

// TestBrowserResume: alice's tab (the page's ReliableSocket, in Chromium)
// stays in the room while bob, on another instance, talks: across her
// socket's lifetime closes, and her instance's SIGTERM (the front then
// sends her to the other instance). She reads every line once, in order;
// her connection keeps its ID; bob never sees her leave.
func TestBrowserResume(t *testing.T) {
	chromium(t)
	// a function timeout of 3 s: each socket lives 2.7 s
	hosts := startHosts(t, 2, "chat-resume", "SCFWS_FUNCTION_TIMEOUT=3")
	a, b := hosts[0], hosts[1]
	hp := func(base string) string { return strings.TrimPrefix(base, "http://") }
	front, err := redistest.StartProxy(hp(a.base))
	require.NoError(t, err)
	t.Cleanup(front.Close)
	front.To(hp(a.base), hp(b.base))

	alice := newTab(t, nil)
	alice.open(pageURL("http://"+front.Addr, "ws://"+front.Addr+"/", "alice")) // the page and its socket through the front
	alice.waitFor(`document.getElementById("status").dataset.state === "open" && document.getElementById("room").textContent.includes("lobby")`)
	id := alice.evalString(`window.chatSocket.id`)
	require.Len(t, id, 24, "the page speaks the reliable mode")
	bob := joinReliable(t, b.ws, "bob") // bob's sockets are cut too: he resumes as well
	alice.waitFor(`document.getElementById("who").textContent === "here: alice, bob"`)

	const n = 40
	for i := 1; i <= n; i++ {
		bob.send(clientMsg{Type: "say", Text: fmt.Sprintf("m%d", i)})
		if i == 30 {
			front.To(hp(b.base))
			require.NoError(t, a.cmd.Process.Signal(syscall.SIGTERM))
		}
		time.Sleep(150 * time.Millisecond)
	}
	alice.waitFor(fmt.Sprintf(`document.getElementById("log").innerText.includes("bob: m%d")`, n))
	var got []string
	for _, l := range strings.Split(alice.evalString(`document.getElementById("log").innerText`), "\n") {
		if m, ok := strings.CutPrefix(strings.TrimSpace(l), "bob: "); ok {
			got = append(got, m)
		}
	}
	var want []string
	for i := 1; i <= n; i++ {
		want = append(want, fmt.Sprintf("m%d", i))
	}
	assert.Equal(t, want, got, "every line once, in order")
	assert.Equal(t, id, alice.evalString(`window.chatSocket.id`), "the same connection")
	assert.GreaterOrEqual(t, alice.evalString(`String(window.chatSocket.resumes)`), "2", "lifetime closes and the SIGTERM")
	alice.waitFor(`document.getElementById("status").dataset.state === "open"`)
	require.NoError(t, a.cmd.Wait(), "A shut down cleanly")
	assert.GreaterOrEqual(t, bob.c.Resumes(), 2, "bob too")

	// bob heard nothing of alice leaving or joining again
	bob.send(clientMsg{Type: "who"})
	for {
		m := bob.next()
		require.False(t, strings.Contains(m.Text, "alice left") || strings.Contains(m.Text, "alice joined"), "bob saw %q", m.Text)
		if m.Type == "who" {
			assert.Equal(t, []string{"alice", "bob"}, m.Nicks)
			break
		}
	}
	// and she still talks, from wherever she is now
	alice.say("still here")
	assert.Equal(t, "still here", bob.expect("message").Text)
}

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/emulator"
)

func startChat(t *testing.T, idle time.Duration) *emulator.Server {
	t.Helper()
	srv, err := startLocal(context.Background(), "127.0.0.1:0", idle, slog.New(slog.DiscardHandler), false)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

// user is a chat participant on a Go WebSocket client.
type user struct {
	t *testing.T
	c *websocket.Conn
}

func join(t *testing.T, wsURL string, nick string) *user {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{Subprotocol}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	assert.Equal(t, Subprotocol, c.Subprotocol())
	u := &user{t: t, c: c}
	u.send(clientMsg{Type: "hello", Nick: nick})
	w := u.expect("welcome")
	assert.Equal(t, nick, w.Nick)
	assert.Equal(t, "lobby", w.Room)
	u.expectText(nick + " joined lobby")
	return u
}

func (u *user) send(m clientMsg) {
	b, _ := json.Marshal(m)
	require.NoError(u.t, u.c.Write(context.Background(), websocket.MessageText, b))
}

// next reads the next message.
func (u *user) next() serverMsg {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := u.c.Read(ctx)
	require.NoError(u.t, err)
	require.Equal(u.t, websocket.MessageText, typ)
	var m serverMsg
	require.NoError(u.t, json.Unmarshal(b, &m), string(b))
	return m
}

// expect reads until a message of that type, failing on an error message.
func (u *user) expect(typ string) serverMsg {
	u.t.Helper()
	for {
		m := u.next()
		if m.Type == typ {
			return m
		}
		require.NotEqual(u.t, "error", m.Type, m.Text)
	}
}

// expectText reads until a message whose text contains s.
func (u *user) expectText(s string) serverMsg {
	u.t.Helper()
	for {
		if m := u.next(); strings.Contains(m.Text, s) {
			return m
		}
	}
}

func TestChatRoom(t *testing.T) {
	srv := startChat(t, time.Minute)
	ann := join(t, srv.URL(), "ann")
	bob := join(t, srv.URL(), "bob")
	assert.Equal(t, 2, ann.expectText("bob joined lobby").Members, "notices carry the head count")

	// private messages and the list of who is here
	ann.send(clientMsg{Type: "msg", Nick: "bob", Text: "psst"})
	assert.Equal(t, serverMsg{Type: "private", From: "ann", To: "bob", Text: "psst"}, bob.expect("private"))
	assert.Equal(t, serverMsg{Type: "private", From: "ann", To: "bob", Text: "psst"}, ann.expect("private"), "the sender sees what it sent")
	ann.send(clientMsg{Type: "msg", Nick: "nobody", Text: "hello?"})
	assert.Contains(t, ann.expect("error").Text, `nobody called "nobody"`)
	bob.send(clientMsg{Type: "who"})
	assert.Equal(t, serverMsg{Type: "who", Room: "lobby", Nicks: []string{"ann", "bob"}, Members: 2}, bob.expect("who"))

	bob.send(clientMsg{Type: "say", Text: "hi ann"})
	m := ann.expect("message")
	assert.Equal(t, serverMsg{Type: "message", Room: "lobby", From: "bob", Text: "hi ann"}, m)
	assert.Equal(t, m, bob.expect("message"), "the sender sees its message too")

	// another room
	bob.send(clientMsg{Type: "join", Room: "games"})
	assert.Equal(t, "games", bob.expect("welcome").Room)
	assert.Equal(t, 1, ann.expectText("bob left lobby").Members)
	ann.send(clientMsg{Type: "say", Text: "anyone?"})
	ann.expect("message")
	bob.send(clientMsg{Type: "say", Text: "in games"})
	assert.Equal(t, "in games", bob.expect("message").Text, "bob no longer hears the lobby")

	// renaming keeps the room
	bob.send(clientMsg{Type: "nick", Nick: "robert"})
	bob.expectText("bob is now robert")
	bob.send(clientMsg{Type: "say", Text: "still here"})
	assert.Equal(t, serverMsg{Type: "message", Room: "games", From: "robert", Text: "still here"}, bob.expect("message"))

	// mistakes are answered, not fatal
	for _, bad := range []string{`not json`, `{"type":"dance"}`, `{"type":"say","text":"  "}`, `{"type":"join","room":""}`, `{"type":"nick","nick":""}`} {
		require.NoError(t, bob.c.Write(context.Background(), websocket.MessageText, []byte(bad)))
		assert.Equal(t, "error", bob.expect("error").Type, bad)
	}

	// binary frames echo to the sender
	require.NoError(t, bob.c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2, 3}))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	typ, b, err := bob.c.Read(ctx)
	require.NoError(t, err)
	assert.Equal(t, websocket.MessageBinary, typ)
	assert.Equal(t, []byte{1, 2, 3}, b)

	// leaving is announced
	bob.send(clientMsg{Type: "join", Room: "lobby"})
	ann.expectText("robert joined lobby")
	require.NoError(t, bob.c.Close(websocket.StatusNormalClosure, ""))
	ann.expectText("robert left lobby")
}

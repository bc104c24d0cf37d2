package main

import (
	"context"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/scfws/emulator"
)

// testIdle is the idle timeout of the head-count tests: long enough that
// nobody but the one meant to idles out on a busy machine.
const testIdle = 3 * time.Second

// checkHeadCounts: the room's head count stays right however people leave
// on an emulator with its strict defaults, where cleanup comes only for the
// closes the client starts: a closed tab (cleanup), a kick (a server-side
// close the app records itself), an idle timeout (no cleanup: the next push
// to the room finds the connection gone and the room hears of it).
func checkHeadCounts(t *testing.T, srv *emulator.Server) {
	ann := join(t, srv.URL(), "ann")
	bob := join(t, srv.URL(), "bob")
	carol := join(t, srv.URL(), "carol")
	dave := join(t, srv.URL(), "dave")
	assert.Equal(t, 4, ann.expectText("dave joined lobby").Members)

	require.NoError(t, carol.c.Close(websocket.StatusGoingAway, "tab closed"))
	assert.Equal(t, 3, ann.expectText("carol left lobby").Members, "after a closed tab")

	ann.send(clientMsg{Type: "kick", Nick: "bob"})
	assert.Equal(t, 2, ann.expectText("bob was kicked by ann").Members, "after a kick")
	assert.Equal(t, websocket.StatusNormalClosure, closeCode(bob), "bob's connection is closed")

	// dave says nothing; ann keeps talking until dave's connection times out
	daveGone := make(chan websocket.StatusCode, 1)
	go func() { daveGone <- closeCode(dave) }()
	tick := time.NewTicker(testIdle / 4)
	defer tick.Stop()
	deadline := time.After(30 * time.Second)
	for waiting := true; waiting; {
		select {
		case code := <-daveGone:
			assert.Equal(t, websocket.StatusGoingAway, code, "idle timeout")
			waiting = false
		case <-tick.C:
			ann.send(clientMsg{Type: "say", Text: "still here"})
		case <-deadline:
			t.Fatal("dave was never timed out")
		}
	}
	ann.send(clientMsg{Type: "say", Text: "anyone left?"})
	assert.Equal(t, 1, ann.expectText("1 connection(s) lost in lobby").Members, "after an idle timeout")
}

// closeCode reads until the connection ends and returns its close code.
func closeCode(u *user) websocket.StatusCode {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		if _, _, err := u.c.Read(ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}

func TestHeadCounts(t *testing.T) {
	checkHeadCounts(t, startChat(t, testIdle))
}

package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/scfws/scfws-go/internal/redistest"
)

// chatInstance is the chat room binary run as a host instance.
type chatInstance struct {
	cmd      *exec.Cmd
	base, ws string
}

// startHosts builds the chat room and starts n host instances of it on one
// redis-server, as hosts (the default) on loopback, with env added to
// their environment.
func startHosts(t *testing.T, n int, prefix string, env ...string) []*chatInstance {
	t.Helper()
	rs, err := redistest.Start(os.Stderr)
	require.NoError(t, err)
	t.Cleanup(rs.Close)
	bin := filepath.Join(t.TempDir(), "chatroom")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, string(out))
	var all []*chatInstance
	for range n {
		cmd := exec.Command(bin, "-addr", "127.0.0.1:0")
		cmd.Env = append(append(os.Environ(), "REDIS_ADDR="+rs.Addr, "REDIS_PREFIX="+prefix), env...)
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		urls := make(chan string, 1)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				if u, ok := strings.CutPrefix(sc.Text(), "chat room (host): "); ok {
					u, _, _ = strings.Cut(u, " ")
					urls <- strings.TrimSuffix(u, "/")
				}
			}
		}()
		select {
		case base := <-urls:
			all = append(all, &chatInstance{cmd: cmd, base: base, ws: "ws" + strings.TrimPrefix(base, "http") + "/release/websocket"})
		case <-time.After(30 * time.Second):
			t.Fatal("the chat room did not start")
		}
	}
	return all
}

// TestHostAcrossInstances: the chat room as two host processes sharing a
// redis-server; people on either instance chat, message privately, leave,
// are kicked, and the head counts follow — also when an instance dies.
func TestHostAcrossInstances(t *testing.T) {
	hosts := startHosts(t, 2, "chat-host")
	a, b := hosts[0], hosts[1]
	ann := join(t, a.ws, "ann")
	bob := join(t, b.ws, "bob")
	assert.Equal(t, 2, ann.expectText("bob joined lobby").Members, "B's join heard on A")

	bob.send(clientMsg{Type: "say", Text: "hi from B"})
	assert.Equal(t, serverMsg{Type: "message", Room: "lobby", From: "bob", Text: "hi from B"}, ann.expect("message"))
	ann.send(clientMsg{Type: "msg", Nick: "bob", Text: "psst from A"})
	assert.Equal(t, serverMsg{Type: "private", From: "ann", To: "bob", Text: "psst from A"}, bob.expect("private"))

	carol := join(t, b.ws, "carol")
	assert.Equal(t, 3, ann.expectText("carol joined lobby").Members)
	require.NoError(t, carol.c.Close(websocket.StatusNormalClosure, "tab closed"))
	assert.Equal(t, 2, ann.expectText("carol left lobby").Members, "cleanup on B, heard on A")

	ann.send(clientMsg{Type: "kick", Nick: "bob"})
	assert.Equal(t, 1, ann.expectText("bob was kicked by ann").Members)
	assert.Equal(t, websocket.StatusNormalClosure, closeCode(bob), "A closed bob's connection on B")

	dave := join(t, b.ws, "dave")
	assert.Equal(t, 2, ann.expectText("dave joined lobby").Members)
	require.NoError(t, b.cmd.Process.Signal(syscall.SIGKILL))
	_ = b.cmd.Wait()
	_ = dave
	// B's lease runs out (host.Options.Lease, 5 s), then it is missing for
	// another lease: only then are its connections refused, and pruned
	killed := time.Now()
	for i := 0; ; i++ {
		require.Less(t, time.Since(killed), 20*time.Second, "a dead instance's connections are pruned within two leases")
		text := fmt.Sprintf("anyone left? %d", i)
		ann.send(clientMsg{Type: "say", Text: text})
		m := ann.next()
		for m.Text != text && !strings.Contains(m.Text, "lost in lobby") {
			m = ann.next()
		}
		if strings.Contains(m.Text, "lost in lobby") {
			assert.Equal(t, "1 connection(s) lost in lobby", m.Text)
			assert.Equal(t, 1, m.Members)
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// TestHostBrowserAcrossInstances: the two-tab scenario with alice's tab on
// one host instance and bob's and carol's on another.
func TestHostBrowserAcrossInstances(t *testing.T) {
	chromium(t)
	hosts := startHosts(t, 2, "chat-host-browser")
	twoTabs(t, place{hosts[0].base, hosts[0].ws}, place{hosts[1].base, hosts[1].ws})
}

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
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
)

// TestBrowserChat opens the chat page in headless Chromium (driven over the
// DevTools protocol) as "alice" and chats with "bob" on a Go client.
// Set SCFWS_SCREENSHOT=file.png to keep a screenshot of alice's page.
func TestBrowserChat(t *testing.T) {
	srv := startChat(t, time.Minute)
	page := openPage(t, fmt.Sprintf("http://%s/?nick=alice&autoconnect=1", srv.Addr()))
	page.waitFor(`document.getElementById("status").dataset.state === "open" && document.getElementById("room").textContent.includes("lobby")`)

	bob := join(t, srv, "bob")
	bob.send(clientMsg{Type: "say", Text: "hi from bob"})
	page.waitFor(`document.getElementById("log").innerText.includes("bob: hi from bob")`)

	page.eval(`document.getElementById("text").value = "hello from alice"; document.getElementById("send").click(); true`)
	for {
		m := bob.expect("message")
		if m.From == "alice" {
			assert.Equal(t, "hello from alice", m.Text)
			break
		}
	}
	page.waitFor(`document.getElementById("log").innerText.includes("alice: hello from alice")`)
	if path := os.Getenv("SCFWS_SCREENSHOT"); path != "" {
		page.screenshot(path)
	}

	// a dropped socket is shown as an error
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(ctx))
	page.waitFor(`document.getElementById("status").dataset.state === "error"`)
	assert.Contains(t, page.evalString(`document.getElementById("status").textContent`), "connection lost")
}

// TestBrowserHeadCounts: the page's head count follows people leaving in
// every way, on the emulator's strict defaults: a closed tab, a kick typed
// on the page, an idle timeout.
func TestBrowserHeadCounts(t *testing.T) {
	srv := startChat(t, testIdle)
	page := openPage(t, fmt.Sprintf("http://%s/?nick=alice&autoconnect=1", srv.Addr()))
	page.waitFor(`document.getElementById("status").dataset.state === "open" && document.getElementById("room").textContent.includes("lobby")`)
	here := func(n int) string {
		return fmt.Sprintf(`document.getElementById("room").textContent.includes("· %d here")`, n)
	}
	say := func(text string) {
		page.eval(fmt.Sprintf(`document.getElementById("text").value = %q; document.getElementById("send").click(); true`, text))
	}
	bob, carol, dave := join(t, srv, "bob"), join(t, srv, "carol"), join(t, srv, "dave")
	page.waitFor(here(4))

	require.NoError(t, carol.c.Close(websocket.StatusGoingAway, "tab closed"))
	page.waitFor(`document.getElementById("log").innerText.includes("carol left lobby") && ` + here(3))

	say("/kick bob")
	page.waitFor(`document.getElementById("log").innerText.includes("bob was kicked by alice") && ` + here(2))
	assert.Equal(t, websocket.StatusNormalClosure, closeCode(bob))

	daveGone := make(chan websocket.StatusCode, 1)
	go func() { daveGone <- closeCode(dave) }()
	for waiting := true; waiting; {
		select {
		case code := <-daveGone:
			assert.Equal(t, websocket.StatusGoingAway, code)
			waiting = false
		case <-time.After(testIdle / 4):
			say("still here") // alice stays active
		}
	}
	say("anyone left?")
	page.waitFor(`document.getElementById("log").innerText.includes("connection(s) lost in lobby") && ` + here(1))
}

// chromium finds the browser; without one the test fails on CI and is
// skipped elsewhere.
func chromium(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no chromium on PATH: .ci/run installs it")
	}
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// page is one browser tab on the DevTools protocol.
type page struct {
	t  *testing.T
	ws *websocket.Conn
	id int
}

func openPage(t *testing.T, url string) *page {
	t.Helper()
	// chromium's helper processes write to the profile after it exits:
	// they are killed as a group, then the profile removed
	dir, err := os.MkdirTemp("", "scfws-chromium-")
	require.NoError(t, err)
	cmd := exec.Command(chromium(t), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--window-size=900,700", "--user-data-dir="+dir, "--remote-debugging-port=0", "about:blank")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		_ = os.RemoveAll(dir)
	})

	var port string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(filepath.Join(dir, "DevToolsActivePort"))
		if err != nil {
			return false
		}
		port, _, _ = strings.Cut(string(b), "\n")
		return port != ""
	}, 30*time.Second, 50*time.Millisecond, "chromium did not open its DevTools port")

	req, err := http.NewRequest(http.MethodPut, "http://127.0.0.1:"+port+"/json/new?about:blank", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var target struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&target))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, target.WebSocketDebuggerURL, nil)
	require.NoError(t, err)
	ws.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = ws.CloseNow() })
	p := &page{t: t, ws: ws}
	p.call("Page.navigate", map[string]any{"url": url})
	return p
}

// call sends a DevTools command and returns its result, skipping events.
func (p *page) call(method string, params any) json.RawMessage {
	p.t.Helper()
	p.id++
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, _ := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	require.NoError(p.t, p.ws.Write(ctx, websocket.MessageText, b))
	for {
		_, b, err := p.ws.Read(ctx)
		require.NoError(p.t, err)
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		require.NoError(p.t, json.Unmarshal(b, &msg))
		if msg.ID != p.id {
			continue
		}
		require.Nil(p.t, msg.Error, "%s failed", method)
		return msg.Result
	}
}

// eval evaluates JavaScript in the page and returns its value as JSON.
func (p *page) eval(expr string) json.RawMessage {
	p.t.Helper()
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails any `json:"exceptionDetails"`
	}
	require.NoError(p.t, json.Unmarshal(p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}), &r))
	require.Nil(p.t, r.ExceptionDetails, expr)
	return r.Result.Value
}

func (p *page) evalString(expr string) string {
	var s string
	_ = json.Unmarshal(p.eval(expr), &s)
	return s
}

// waitFor polls a JavaScript condition for up to 10 s.
func (p *page) waitFor(cond string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if string(p.eval(`(() => { try { return !!(`+cond+`) } catch (e) { return false } })()`)) == "true" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	p.t.Fatalf("page never met %s; it shows:\n%s", cond, p.evalString(`document.body.innerText`))
}

func (p *page) screenshot(path string) {
	var r struct {
		Data string `json:"data"`
	}
	require.NoError(p.t, json.Unmarshal(p.call("Page.captureScreenshot", map[string]any{"format": "png"}), &r))
	png, err := base64.StdEncoding.DecodeString(r.Data)
	require.NoError(p.t, err)
	require.NoError(p.t, os.WriteFile(path, png, 0o644))
}

package main

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"
	"github.com/scfws/scfws-go/internal/testnote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pageURL is the chat page for nick, connecting to the WebSocket at ws.
func pageURL(base, ws, nick string) string {
	return base + "/?autoconnect=1&nick=" + url.QueryEscape(nick) + "&ws=" + url.QueryEscape(ws)
}

// place is where a tab opens the page (base) and the WebSocket it connects to.
type place struct{ base, ws string }

// twoTabs is the chat as two people see it, in two tabs of one headless
// Chromium: joining, the list of who is here, someone leaving, a private
// message, a kick. Alice's tab is at a, bob's and carol's at b (another
// instance, or the same place).
func twoTabs(t *testing.T, a, b place) {
	alice, bob := newTab(t, nil), (*tab)(nil)
	alice.open(pageURL(a.base, a.ws, "alice"))
	alice.waitFor(`document.getElementById("status").dataset.state === "open" && document.getElementById("room").textContent.includes("lobby")`)
	bob = newTab(t, alice)
	bob.open(pageURL(b.base, b.ws, "bob"))
	bob.waitFor(`document.getElementById("status").dataset.state === "open"`)

	for _, tb := range []*tab{alice, bob} {
		tb.waitFor(`document.getElementById("who").textContent === "here: alice, bob" && document.getElementById("room").textContent.includes("· 2 here")`)
	}
	alice.waitFor(`document.getElementById("log").innerText.includes("bob joined lobby")`)

	carol := newTab(t, alice)
	carol.open(pageURL(b.base, b.ws, "carol"))
	alice.waitFor(`document.getElementById("who").textContent === "here: alice, bob, carol"`)
	carol.close() // the tab is closed: its socket with it
	alice.waitFor(`document.getElementById("log").innerText.includes("carol left lobby") && ` +
		`document.getElementById("who").textContent === "here: alice, bob" && document.getElementById("room").textContent.includes("· 2 here")`)

	bob.say("hi everyone")
	alice.waitFor(`document.getElementById("log").innerText.includes("bob: hi everyone")`)
	alice.say("/msg bob just for you")
	bob.waitFor(`document.getElementById("log").innerText.includes("(private) alice → bob: just for you")`)
	alice.waitFor(`document.getElementById("log").innerText.includes("(private) alice → bob: just for you")`)
	if path := os.Getenv("SCFWS_SCREENSHOT"); path != "" {
		bob.screenshot(path)
	}

	alice.say("/dance")
	alice.waitFor(`document.getElementById("log").innerText.includes("unknown command /dance")`)
	alice.say("after the dance")
	bob.waitFor(`document.getElementById("log").innerText.includes("alice: after the dance")`) // later than /dance would be
	assert.NotContains(t, bob.evalString(`document.getElementById("log").innerText`), "/dance", "an unknown command is not posted")

	alice.say("/kick bob")
	bob.waitFor(`document.getElementById("status").dataset.state !== "open"`)
	bob.waitFor(`document.getElementById("status").textContent.includes("kicked from lobby by alice") && ` +
		`document.getElementById("room").textContent === ""`)
	alice.waitFor(`document.getElementById("log").innerText.includes("bob was kicked by alice") && ` +
		`document.getElementById("who").textContent === "here: alice" && document.getElementById("room").textContent.includes("· 1 here")`)
}

// TestBrowserChat runs twoTabs on the chat room as `go run` starts it, then
// shows that a dropped socket is visible on the page.
func TestBrowserChat(t *testing.T) {
	srv := startChat(t, time.Minute)
	at := place{"http://" + srv.Addr(), srv.URL()}
	twoTabs(t, at, at)

	page := newTab(t, nil)
	page.open(pageURL("http://"+srv.Addr(), srv.URL(), "carol"))
	page.waitFor(`document.getElementById("status").dataset.state === "open"`)
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
	page := newTab(t, nil)
	page.open(pageURL("http://"+srv.Addr(), srv.URL(), "alice"))
	page.waitFor(`document.getElementById("status").dataset.state === "open" && document.getElementById("room").textContent.includes("lobby")`)
	here := func(n int) string {
		return fmt.Sprintf(`document.getElementById("room").textContent.includes("· %d here")`, n)
	}
	bob, carol, dave := join(t, srv.URL(), "bob"), join(t, srv.URL(), "carol"), join(t, srv.URL(), "dave")
	page.waitFor(here(4))

	require.NoError(t, carol.c.Close(websocket.StatusGoingAway, "tab closed"))
	page.waitFor(`document.getElementById("log").innerText.includes("carol left lobby") && ` + here(3))

	page.say("/kick bob")
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
			page.say("still here") // alice stays active
		}
	}
	page.say("anyone left?")
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
	testnote.Say(io.Discard, "examples/chatroom: browser tests skipped: no chromium on PATH (apt-get install chromium)")
	t.Skip("no chromium on PATH (apt-get install chromium)")
	return ""
}

// tab is one browser tab, driven with chromedp.
type tab struct {
	t     *testing.T
	ctx   context.Context
	close context.CancelFunc // closes the tab
}

// newTab opens a tab: in a new headless Chromium when sibling is nil, else
// in sibling's browser.
func newTab(t *testing.T, sibling *tab) *tab {
	t.Helper()
	var parent context.Context
	if sibling == nil {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium(t)),
			chromedp.NoSandbox, chromedp.Flag("disable-quic", true), chromedp.Flag("disable-dev-shm-usage", true),
			chromedp.WindowSize(900, 700))
		alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
		t.Cleanup(cancel)
		parent = alloc
	} else {
		parent = sibling.ctx
	}
	ctx, cancel := chromedp.NewContext(parent)
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx), "start the browser tab") // no timeout: it bounds the browser's life
	return &tab{t: t, ctx: ctx, close: cancel}
}

func (p *tab) run(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...))
}

func (p *tab) open(url string) { p.run(chromedp.Navigate(url)) }

// say types text in the message box and sends it.
func (p *tab) say(text string) {
	p.run(chromedp.SetValue(chromedp.CSS("#text"), text), chromedp.Click(chromedp.CSS("#send")))
}

// waitFor polls a JavaScript condition for up to 10 s.
func (p *tab) waitFor(cond string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](cond, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		p.t.Fatalf("page never met %s (%v); it shows:\n%s", cond, err, p.evalString(`document.body.innerText`))
	}
}

func (p *tab) evalString(expr string) string {
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	return s
}

func (p *tab) screenshot(path string) {
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	require.NoError(p.t, err)
	require.NoError(p.t, os.WriteFile(path, png, 0o644))
}

// Package client is a Go client of the host's reliable mode: one logical
// connection that outlives its sockets. When the socket is cut — the
// host's lifetime close (every 890 s in a Web function), a shutdown or
// deploy, a network drop — the client resumes the same connection, on any
// instance, within the host's window, and receives every message pushed
// to it meanwhile, once and in order; what it wrote is handled once. The
// app on the host sees one register and one cleanup.
//
//	c, err := client.Dial(ctx, "wss://example.com/", nil)
//	...
//	typ, data, err := c.Read(ctx)  // a *client.CloseError once the connection ends
//	err = c.Write(ctx, websocket.MessageText, []byte("hello"))
//	c.Close()                      // ends it: the app's cleanup runs
//
// Against a server that does not speak the reliable mode (the legacy API
// gateway, the emulator) it is a plain WebSocket client: no resume.
//
// The browser's twin is [Script] (one ES module, no build step). The wire
// is in docs/protocol.md, "Reliable mode".
package client

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// Protocol is the subprotocol of the reliable mode.
const Protocol = "scfws.reliable.v1"

// Script is the browser client: an ES module (scfws.js) to serve as
// JavaScript, e.g. at /scfws.js, and import:
//
//	import { ReliableSocket } from "/scfws.js";
//	const ws = new ReliableSocket("wss://example.com/");
//	ws.onmessage = (ev) => console.log(ev.data);
//	ws.send("hello");
//
//go:embed scfws.js
var Script string

// The close codes a resume is refused with (see package host).
const (
	CodeResumeGone  websocket.StatusCode = 4000 // the window is over, or the state is lost
	CodeResumeToken websocket.StatusCode = 4001 // not the connection's current token
	CodeResumeRetry websocket.StatusCode = 4002 // still attached to an old socket: retry
)

// Options configures Dial. A nil *Options means the zero value.
type Options struct {
	// Subprotocols are offered besides Protocol; the register function
	// chooses among them ([Conn.Subprotocol]).
	Subprotocols []string
	// HTTPHeader and HTTPClient are used for every handshake.
	HTTPHeader http.Header
	HTTPClient *http.Client
	// MinBackoff and MaxBackoff shape the waits between attempts to
	// resume: a random wait up to MinBackoff·2ⁿ (full jitter), at most
	// MaxBackoff. 0: 100 ms and 5 s.
	MinBackoff, MaxBackoff time.Duration
}

// CloseError is what Read and Write return once the logical connection
// has ended: closed by the server (Reason says why) or by Close, or not
// resumable (Code CodeResumeGone or CodeResumeToken).
type CloseError struct {
	Code   websocket.StatusCode
	Reason string
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("scfws/client: connection ended: %d %s", e.Code, e.Reason)
}

// Conn is a logical connection. Its methods are safe for concurrent use;
// Read by one goroutine at a time.
type Conn struct {
	url  string
	opts Options
	in   chan incoming

	mu       sync.Mutex
	ws       *websocket.Conn // the current socket; nil while resuming
	reliable bool
	id       string
	protocol string
	token    string
	window   time.Duration
	lastIn   atomic.Uint64 // the last seq received (written by the reading goroutine)
	unacked  atomic.Int64  // received and not yet acknowledged
	ackTimer *time.Timer   // acknowledges ackAfter after the first not acknowledged
	out      uint64        // the last seq written
	sent     []outMsg      // written and not yet handled by the server
	ended    *CloseError
	closing  bool
	resumes  int
	done     chan struct{}

	wmu sync.Mutex // orders writes on the socket
}

type incoming struct {
	typ  websocket.MessageType
	data []byte
}

type outMsg struct {
	seq  uint64
	typ  websocket.MessageType
	data []byte
}

// ackEvery and ackAfter: the client acknowledges after that many
// messages, or that long after the first one not acknowledged.
const (
	ackEvery = 32
	ackAfter = 50 * time.Millisecond
)

// Dial opens a logical connection; its error is the first handshake's.
func Dial(ctx context.Context, u string, opts *Options) (*Conn, error) {
	c := &Conn{url: u, in: make(chan incoming, 1024), done: make(chan struct{})}
	if opts != nil {
		c.opts = *opts
	}
	if c.opts.MinBackoff <= 0 {
		c.opts.MinBackoff = 100 * time.Millisecond
	}
	if c.opts.MaxBackoff <= 0 {
		c.opts.MaxBackoff = 5 * time.Second
	}
	ws, _, err := websocket.Dial(ctx, u, c.dialOptions())
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(-1)
	c.ws = ws
	if ws.Subprotocol() != Protocol {
		c.protocol = ws.Subprotocol()
		go c.readPlain(ws)
		return c, nil
	}
	c.reliable = true
	if err := c.hello(ctx, ws, "welcome"); err != nil {
		_ = ws.CloseNow()
		return nil, err
	}
	go c.read(ws)
	return c, nil
}

func (c *Conn) dialOptions() *websocket.DialOptions {
	return &websocket.DialOptions{HTTPClient: c.opts.HTTPClient, HTTPHeader: c.opts.HTTPHeader,
		Subprotocols: append([]string{Protocol}, c.opts.Subprotocols...)}
}

// ID returns the connection ID (the same across resumes).
func (c *Conn) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// Subprotocol returns the subprotocol the register function chose, "" none.
func (c *Conn) Subprotocol() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.protocol
}

// Reliable reports whether the server speaks the reliable mode.
func (c *Conn) Reliable() bool { return c.reliable }

// Resumes returns how many times the connection was resumed.
func (c *Conn) Resumes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resumes
}

// control is a control message from the server.
type control struct {
	Type     string `json:"type"`
	ID       string `json:"id"`
	Token    string `json:"token"`
	Window   int64  `json:"window"`
	Protocol string `json:"protocol"`
	In       uint64 `json:"in"`
	Seq      uint64 `json:"seq"`
	Reason   string `json:"reason"`
}

// hello reads the first message of a socket: the welcome or resumed
// control message.
func (c *Conn) hello(ctx context.Context, ws *websocket.Conn, want string) error {
	typ, data, err := ws.Read(ctx)
	if err != nil {
		return err
	}
	var m control
	if typ != websocket.MessageText || json.Unmarshal(data, &m) != nil || m.Type != want {
		return fmt.Errorf("scfws/client: the server's first message is not %q: %.80q", want, data)
	}
	c.mu.Lock()
	c.id, c.token, c.window, c.protocol = m.ID, m.Token, time.Duration(m.Window)*time.Second, m.Protocol
	c.mu.Unlock()
	if want == "resumed" {
		c.handled(m.In)
	}
	return nil
}

// Read returns the next message; a *CloseError once the connection ended
// and every message was read.
func (c *Conn) Read(ctx context.Context) (websocket.MessageType, []byte, error) {
	select {
	case m := <-c.in:
		return m.typ, m.data, nil
	default:
	}
	select {
	case m := <-c.in:
		return m.typ, m.data, nil
	case <-c.done:
		select {
		case m := <-c.in:
			return m.typ, m.data, nil
		default:
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		return 0, nil, c.ended
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

// Write sends a message. In the reliable mode it is handled by the server
// once, whatever cut comes: it is written again after a resume until the
// server acknowledges it; Write returns once it is written to the current
// socket, or kept for the next.
func (c *Conn) Write(ctx context.Context, typ websocket.MessageType, data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	if c.ended != nil {
		defer c.mu.Unlock()
		return c.ended
	}
	ws := c.ws
	if !c.reliable {
		c.mu.Unlock()
		return ws.Write(ctx, typ, data)
	}
	c.out++
	m := outMsg{seq: c.out, typ: typ, data: append([]byte(nil), data...)}
	c.sent = append(c.sent, m)
	c.mu.Unlock()
	if ws != nil {
		_ = writeMsg(ctx, ws, m) // on failure, kept for the resume
	}
	return nil
}

func writeMsg(ctx context.Context, ws *websocket.Conn, m outMsg) error {
	if m.typ == websocket.MessageBinary {
		return ws.Write(ctx, m.typ, append(binary.BigEndian.AppendUint64(nil, m.seq), m.data...))
	}
	return ws.Write(ctx, m.typ, append(strconv.AppendUint(nil, m.seq, 10), append([]byte{':'}, m.data...)...))
}

// Close ends the logical connection: the server runs its cleanup.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closing = true
	ws := c.ws
	c.mu.Unlock()
	if ws == nil {
		c.end(&CloseError{Code: websocket.StatusNormalClosure, Reason: "closed by the client"})
		return nil
	}
	c.sendAck(ws)
	err := ws.Close(websocket.StatusNormalClosure, "")
	c.end(&CloseError{Code: websocket.StatusNormalClosure, Reason: "closed by the client"})
	return err
}

// end ends the logical connection once.
func (c *Conn) end(e *CloseError) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ended != nil {
		return
	}
	c.ended = e
	if c.ackTimer != nil {
		c.ackTimer.Stop()
	}
	close(c.done)
}

func (c *Conn) readPlain(ws *websocket.Conn) {
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			c.end(closeErr(err))
			return
		}
		select {
		case c.in <- incoming{typ, data}:
		case <-c.done:
			return
		}
	}
}

func closeErr(err error) *CloseError {
	var ce websocket.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: ce.Code, Reason: ce.Reason}
	}
	return &CloseError{Code: websocket.StatusAbnormalClosure, Reason: err.Error()}
}

// read reads one socket; when it ends without the connection ending, it
// resumes.
func (c *Conn) read(ws *websocket.Conn) {
	var endMsg *CloseError
	for {
		typ, data, err := ws.Read(context.Background())
		if err != nil {
			c.mu.Lock()
			closing := c.closing
			c.ws = nil
			c.mu.Unlock()
			switch {
			case closing:
				return
			case endMsg != nil:
				if ce := closeErr(err); ce.Code != websocket.StatusAbnormalClosure {
					endMsg.Code = ce.Code
				}
				c.end(endMsg)
				return
			}
			go c.resume()
			return
		}
		if typ == websocket.MessageText && len(data) > 0 && data[0] == '{' {
			var m control
			if json.Unmarshal(data, &m) != nil {
				continue
			}
			switch m.Type {
			case "ack":
				c.handled(m.Seq)
			case "end":
				endMsg = &CloseError{Code: websocket.StatusNormalClosure, Reason: m.Reason}
			}
			continue
		}
		seq, body, ok := parseData(typ, data)
		last := c.lastIn.Load()
		if !ok || seq > last+1 {
			_ = ws.CloseNow() // a gap: resume from the last received
			continue
		}
		if seq <= last {
			continue // a copy of one received
		}
		select {
		case c.in <- incoming{typ, body}:
		case <-c.done:
			return
		}
		c.received(ws, seq)
	}
}

func parseData(typ websocket.MessageType, data []byte) (uint64, []byte, bool) {
	if typ == websocket.MessageBinary {
		if len(data) < 8 {
			return 0, nil, false
		}
		return binary.BigEndian.Uint64(data), data[8:], true
	}
	i := bytes.IndexByte(data[:min(len(data), 21)], ':')
	if i <= 0 {
		return 0, nil, false
	}
	seq, err := strconv.ParseUint(string(data[:i]), 10, 64)
	return seq, data[i+1:], err == nil
}

// received records seq and acknowledges it, at once or soon.
func (c *Conn) received(ws *websocket.Conn, seq uint64) {
	c.lastIn.Store(seq)
	switch n := c.unacked.Add(1); {
	case n == ackEvery:
		go c.sendAck(ws) // off the reading path
	case n == 1:
		c.mu.Lock()
		if c.ackTimer == nil {
			c.ackTimer = time.AfterFunc(ackAfter, c.ackNow)
		} else {
			c.ackTimer.Reset(ackAfter)
		}
		c.mu.Unlock()
	}
}

// ackNow acknowledges on the current socket, if any.
func (c *Conn) ackNow() {
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		c.sendAck(ws)
	}
}

func (c *Conn) sendAck(ws *websocket.Conn) {
	if !c.reliable || c.unacked.Swap(0) == 0 {
		return
	}
	seq := c.lastIn.Load()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"ack","seq":`+strconv.FormatUint(seq, 10)+`}`))
}

// handled drops what the server handled.
func (c *Conn) handled(seq uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for n < len(c.sent) && c.sent[n].seq <= seq {
		n++
	}
	c.sent = c.sent[n:]
}

// resume reopens the connection on a new socket, with backoff, until it
// is resumed or the window is over.
func (c *Conn) resume() {
	c.mu.Lock()
	deadline := time.Now().Add(max(c.window, time.Second))
	c.mu.Unlock()
	for attempt := 0; ; attempt++ {
		c.mu.Lock()
		token, last, closing := c.token, c.lastIn.Load(), c.closing
		c.mu.Unlock()
		if closing {
			return
		}
		wait := min(c.opts.MaxBackoff, c.opts.MinBackoff<<min(attempt, 16))
		time.Sleep(rand.N(wait + 1)) // full jitter: a fleet cut at once does not come back at once
		if time.Now().After(deadline) {
			c.end(&CloseError{Code: CodeResumeGone, Reason: "could not resume within the window"})
			return
		}
		u, err := url.Parse(c.url)
		if err != nil {
			c.end(&CloseError{Code: CodeResumeGone, Reason: err.Error()})
			return
		}
		q := u.Query()
		q.Set("scfws_resume", token)
		q.Set("scfws_ack", strconv.FormatUint(last, 10))
		u.RawQuery = q.Encode()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		ws, _, err := websocket.Dial(ctx, u.String(), c.dialOptions())
		if err != nil {
			cancel()
			continue // unreachable now: again
		}
		ws.SetReadLimit(-1)
		err = c.hello(ctx, ws, "resumed")
		cancel()
		if err != nil {
			ce := closeErr(err)
			_ = ws.CloseNow()
			if ce.Code == CodeResumeGone || ce.Code == CodeResumeToken {
				c.end(ce)
				return
			}
			continue // retry: still attached, or a failed attempt
		}
		c.attach(ws)
		return
	}
}

// attach makes ws the connection's socket: what was written and not
// handled is written again, in order, before anything new.
func (c *Conn) attach(ws *websocket.Conn) {
	c.wmu.Lock()
	c.mu.Lock()
	pending := append([]outMsg(nil), c.sent...)
	c.resumes++
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	for _, m := range pending {
		if writeMsg(ctx, ws, m) != nil {
			break
		}
	}
	cancel()
	c.mu.Lock()
	c.ws = ws
	c.mu.Unlock()
	c.wmu.Unlock()
	go c.read(ws)
}

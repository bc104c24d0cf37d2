package gateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/internal/wsheader"
	"github.com/scfws/scfws-go/scfws"
)

// refusal is why a handshake was refused: the client gets the status and
// its standard text only; the reason, which may hold what a function said,
// goes to the log.
type refusal struct {
	status int
	reason string
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if !s.originAllowed(r) {
		s.log.Warn(s.opts.LogPrefix+": connection refused", "status", http.StatusForbidden,
			"reason", "origin not allowed", "origin", r.Header.Get("Origin"), "host", r.Host)
		refuse(w, http.StatusText(http.StatusForbidden), http.StatusForbidden)
		return
	}
	if s.isClosing() {
		refuse(w, "shutting down", http.StatusServiceUnavailable)
		return
	}
	if status, why := checkHandshake(r); status != 0 { // no function runs for it
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Upgrade", "websocket")
			w.Header().Set("Sec-WebSocket-Version", "13")
		}
		refuse(w, why, status)
		return
	}
	reliable := s.reliable(r)
	if reliable && r.URL.Query().Has("scfws_resume") {
		s.serveResume(w, r)
		return
	}
	start := time.Now()
	ev := s.registerEvent(r, reliable)
	id := ev.ConnectionID()
	if !s.reserve() {
		refuse(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
		s.log.Warn(s.opts.LogPrefix+": connection refused", "status", http.StatusServiceUnavailable,
			"reason", fmt.Sprintf("too many connections (max %d)", s.opts.MaxConnections))
		return
	}
	answer, ref := s.register(context.Background(), ev)
	if ref != nil {
		s.release()
		s.log.Warn(s.opts.LogPrefix+": connection refused", "secConnectionID", id, "status", ref.status, "reason", ref.reason,
			"latency", time.Since(start))
		refuse(w, http.StatusText(ref.status), ref.status)
		return
	}
	c := newConn(s, id)
	if reliable {
		c.rel = &relState{parked: make(chan struct{})}
		ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
		err := s.opts.Reliable.Attach(ctx, id)
		cancel()
		if err != nil {
			s.release()
			s.log.Warn(s.opts.LogPrefix+": connection refused", "secConnectionID", id, "status", http.StatusServiceUnavailable,
				"reason", "reliable mode: "+err.Error())
			refuse(w, http.StatusText(http.StatusServiceUnavailable), http.StatusServiceUnavailable)
			s.cleanup(id) // the register function accepted it
			s.opts.Reliable.Ended(id)
			return
		}
	}
	if !s.add(c) {
		refuse(w, "shutting down", http.StatusServiceUnavailable)
		if s.opts.CleanupOnServerClose || reliable {
			s.cleanup(id) // the register function accepted it
		}
		if reliable {
			s.opts.Reliable.Ended(id)
		}
		return
	}
	if answer != nil && answer.SecWebSocketExtensions != "" && !s.opts.ApplyExtensions {
		// passed through, as the gateway is documented to do, not applied
		w.Header().Set("Sec-WebSocket-Extensions", answer.SecWebSocketExtensions)
	}
	opts := s.acceptOptions(answer)
	var first []outgoing
	if reliable {
		opts.Subprotocols = []string{ReliableProtocol}
		var protocol string
		if answer != nil {
			protocol = answer.SecWebSocketProtocol
		}
		first = c.startReliable(nil, protocol, r.Header.Get("Origin"), 0)
	}
	ws, ok := s.upgrade(w, r, c, opts, first)
	if !ok {
		return
	}
	s.log.Info(s.opts.LogPrefix+": connected", "secConnectionID", id, "subprotocol", ws.Subprotocol(),
		"latency", time.Since(start))
	// on a goroutine of its own: the handler's stack (net/http's, this
	// handshake's) is freed instead of held for the connection's life
	go c.serve()
}

// upgrade answers the handshake for c, and queues first for it; false
// when the handshake failed (c is finished).
func (s *Server) upgrade(w http.ResponseWriter, r *http.Request, c *conn, opts *websocket.AcceptOptions,
	first []outgoing) (*websocket.Conn, bool) {
	hw := hijackWriter{ResponseWriter: w, wrap: func(nc net.Conn) net.Conn { return s.wrapConn(c, nc) }}
	ws, err := websocket.Accept(hw, r, opts)
	if err != nil {
		s.log.Warn(s.opts.LogPrefix+": handshake failed", "secConnectionID", c.id, "err", err)
		c.finish()
		return nil, false
	}
	limit := s.opts.MaxMessageSize
	if c.rel != nil {
		limit += seqLimit
	}
	ws.SetReadLimit(limit)
	c.accepted(ws)
	for _, m := range first {
		_ = c.send(m)
	}
	return ws, true
}

// wrapConn records the socket under c and meters what the client sends.
func (s *Server) wrapConn(c *conn, nc net.Conn) net.Conn {
	c.nc = nc // set before ws is, read only after (c.accepted)
	if rate := s.opts.MaxBytesPerSecond; rate > 0 {
		return newMeteredConn(nc, c, rate, s.opts.MaxMessageSize)
	}
	return nc
}

// refuse answers a handshake with status and closes the connection: at
// once, without first reading a body the client announced (and may never
// send), as net/http would before answering. Its write side is closed
// after the answer; what the client still sends is read and dropped for
// up to a second (so that the answer is not lost to a reset), then the
// connection is closed.
func refuse(w http.ResponseWriter, msg string, status int) {
	w.Header().Set("Connection", "close")
	http.Error(w, msg, status)
	rc := http.NewResponseController(w)
	if rc.Flush() != nil {
		return
	}
	nc, brw, err := rc.Hijack()
	if err != nil {
		return
	}
	_ = brw.Flush()
	if tc, ok := nc.(interface{ CloseWrite() error }); ok {
		_ = tc.CloseWrite()
	}
	_ = nc.SetReadDeadline(time.Now().Add(time.Second))
	go func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
		_ = nc.Close()
	}()
}

// checkHandshake checks an opening handshake as RFC 6455 §4.2.1 asks: 0
// when valid, else the status to refuse it with (426 for a request that is
// not an upgrade or asks for another version, 400 for a malformed one).
func checkHandshake(r *http.Request) (int, string) {
	switch {
	case !headerHasToken(r.Header, "Upgrade", "websocket") || !headerHasToken(r.Header, "Connection", "upgrade"):
		return http.StatusUpgradeRequired, "this is a WebSocket endpoint: connect with a WebSocket client"
	case r.Header.Get("Sec-WebSocket-Version") != "13":
		return http.StatusUpgradeRequired, "unsupported Sec-WebSocket-Version: 13 only"
	case r.Method != http.MethodGet:
		return http.StatusBadRequest, "a WebSocket handshake is a GET"
	case !r.ProtoAtLeast(1, 1):
		return http.StatusBadRequest, "a WebSocket handshake needs HTTP/1.1"
	}
	key, err := base64.StdEncoding.DecodeString(r.Header.Get("Sec-WebSocket-Key"))
	if err != nil || len(key) != 16 || len(r.Header.Values("Sec-WebSocket-Key")) != 1 {
		return http.StatusBadRequest, "Sec-WebSocket-Key must be 16 bytes in base64"
	}
	return 0, ""
}

// headerHasToken reports whether a comma-separated header has token
// (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for elem := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(elem), token) {
				return true
			}
		}
	}
	return false
}

// acceptOptions answers the handshake as the register function did;
// permessage-deflate is applied only with Options.ApplyExtensions.
func (s *Server) acceptOptions(answer *scfws.RegisterWebSocket) *websocket.AcceptOptions {
	// the origin was checked already (originAllowed)
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	if answer == nil {
		return opts
	}
	if p := answer.SecWebSocketProtocol; p != "" {
		opts.Subprotocols = []string{p}
	}
	if !s.opts.ApplyExtensions {
		return opts
	}
	for _, ext := range wsheader.ParseExtensions(answer.SecWebSocketExtensions) {
		if ext.Name == "permessage-deflate" {
			opts.CompressionMode = websocket.CompressionContextTakeover
			if s.opts.NoContextTakeover {
				opts.CompressionMode = websocket.CompressionNoContextTakeover
			}
			for _, p := range ext.Params {
				if p.Name == "server_no_context_takeover" {
					opts.CompressionMode = websocket.CompressionNoContextTakeover
				}
			}
		}
	}
	return opts
}

// registerEvent builds the register event from the handshake, as the
// gateway does: the client's raw negotiation headers only when it sent
// them; its headers and query string with Options.RequestData.
func (s *Server) registerEvent(r *http.Request, reliable bool) *scfws.RegisterEvent {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	rc := &scfws.RequestContext{ServiceID: s.opts.ServiceID, Path: s.api, HTTPMethod: r.Method,
		Identity: json.RawMessage("{}"), SourceIP: host,
		Stage: s.stage, WebSocketEnable: true}
	if s.opts.Path == "" {
		rc.Path, rc.Stage = r.URL.Path, ""
	}
	if s.opts.TrustRequestID {
		rc.RequestID = r.Header.Get("X-Scf-Request-Id")
	}
	if rc.RequestID == "" {
		rc.RequestID = newRequestID()
	}
	ev := &scfws.RegisterEvent{RequestContext: rc, WebSocket: scfws.RegisterWebSocket{
		Action: scfws.ActionConnecting, SecConnectionID: s.opts.NewConnectionID(reliable),
		SecWebSocketProtocol:   strings.Join(r.Header.Values("Sec-WebSocket-Protocol"), ", "),
		SecWebSocketExtensions: strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", "),
	}}
	if reliable { // the host's to answer: the register function chooses among the others
		ev.WebSocket.SecWebSocketProtocol = withoutReliable(ev.WebSocket.SecWebSocketProtocol)
	}
	if s.opts.RequestData {
		ev.Headers = make(map[string]string, len(r.Header))
		for k, v := range r.Header {
			ev.Headers[strings.ToLower(k)] = strings.Join(v, ",")
		}
		if q := r.URL.Query(); len(q) > 0 {
			ev.QueryString = make(map[string]string, len(q))
			for k, v := range q {
				ev.QueryString[k] = strings.Join(v, ",")
			}
		}
	}
	return ev
}

// register invokes the register function and checks its answer: the
// websocket object of an accepting answer (nil for no register function).
func (s *Server) register(ctx context.Context, ev *scfws.RegisterEvent) (*scfws.RegisterWebSocket, *refusal) {
	if s.fns.Register == nil {
		return nil, nil
	}
	payload, _ := json.Marshal(ev)
	start := time.Now()
	out, err := s.invoke(ctx, "register", s.fns.Register, payload)
	s.logEvent(ev.WebSocket.Action, ev.ConnectionID(), start, err, "")
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &refusal{http.StatusGatewayTimeout, "register function timed out"}
	}
	if err != nil {
		return nil, &refusal{http.StatusBadGateway, "register function failed: " + err.Error()}
	}
	var resp scfws.Response
	if err := json.Unmarshal(out, &resp); err != nil || !hasErrNo(out) {
		return nil, &refusal{http.StatusBadGateway, fmt.Sprintf("register function answered %q, not a register response", out)}
	}
	if resp.ErrNo != 0 {
		return nil, &refusal{http.StatusForbidden, fmt.Sprintf("refused by the register function: errNo %d: %s", resp.ErrNo, resp.ErrMsg)}
	}
	if resp.WebSocket != nil && resp.WebSocket.SecWebSocketProtocol != "" {
		p := resp.WebSocket.SecWebSocketProtocol
		if offered := wsheader.ParseSubprotocols(ev.WebSocket.SecWebSocketProtocol); !slices.Contains(offered, p) {
			return nil, &refusal{http.StatusBadGateway, fmt.Sprintf(
				"register function answered subprotocol %q, which is not one token the client offered (%q)",
				p, ev.WebSocket.SecWebSocketProtocol)}
		}
	}
	return resp.WebSocket, nil
}

// hasErrNo reports whether a JSON object answer has the errNo key the
// gateway requires.
func hasErrNo(out []byte) bool {
	var keys map[string]json.RawMessage
	if json.Unmarshal(out, &keys) != nil {
		return false
	}
	_, ok := keys["errNo"]
	return ok
}

// originAllowed applies Options.CheckOrigin: a handshake without an Origin
// header (not from a browser) passes; one from a browser passes when its
// origin's host is the request's own (Host, or X-Forwarded-Host, which a
// browser's WebSocket cannot set) or matches one of Options.OriginPatterns
// (path.Match patterns against the origin's host, as coder/websocket's).
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if !s.opts.CheckOrigin || origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	for _, h := range append([]string{r.Host}, r.Header.Values("X-Forwarded-Host")...) {
		if strings.EqualFold(u.Host, h) {
			return true
		}
	}
	for _, p := range s.opts.OriginPatterns {
		if ok, _ := path.Match(strings.ToLower(p), strings.ToLower(u.Host)); ok {
			return true
		}
	}
	return false
}

// Package gateway is the one WebSocket gateway core behind scfws's two
// public configurations: package emulator (the legacy API gateway, for
// development) and package host (production: a Web function or any
// server). It terminates WebSocket, decides a handshake with the register
// function, turns frames into transmission events and closes into cleanup,
// and delivers pushes to the connections it holds.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// Options configures a Server. The public packages fill every field; the
// zero value of a limit means none.
type Options struct {
	// Addr is the listening address.
	Addr string
	// Path is the WebSocket path, stage first ("/release/websocket" gives
	// the event stage "release" and path "/websocket"). "": every path, the
	// event path being the request's.
	Path string
	// PushPath is the reverse-push path on the listener; "": none.
	PushPath string
	// PushURL is what URL and the environment name as the push URL when
	// there is no PushPath.
	PushURL string
	// Handler serves what is not WebSocket (and not PushPath). Nil: 404.
	Handler http.Handler
	// ServiceID is requestContext.serviceId.
	ServiceID string
	// RequestData adds the handshake's headers and query string to the
	// register event (Headers, QueryString).
	RequestData bool
	// NewConnectionID makes connection IDs (reliable: for a connection in
	// the reliable mode). Nil: 16 random bytes in standard base64, shaped
	// as the gateway's.
	NewConnectionID func(reliable bool) string
	// Reliable, when set, serves the reliable mode (reliable.go) to the
	// clients that offer ReliableProtocol; MaxResumeMessages and
	// MaxResumeBytes bound what one keeps unacknowledged (over them it is
	// ended with 1008). Nil: that subprotocol is the register function's
	// to choose, as any other.
	Reliable          Reliable
	MaxResumeMessages int
	MaxResumeBytes    int64
	// ResumeCheck, when set, is asked before each resume, with its
	// handshake: an error refuses it (CodeResumeToken).
	ResumeCheck func(r *http.Request, connectionID string) error

	InvokeTimeout  time.Duration
	MaxConnections int
	MaxMessageSize int64
	// IdleTimeout closes a client that sent nothing for that long, with
	// IdleCode. 0: never.
	IdleTimeout time.Duration
	IdleCode    websocket.StatusCode
	// Heartbeat pings each client that often; one that does not answer
	// within the interval is dropped. 0: never.
	Heartbeat time.Duration
	// MaxLifetime closes each connection that long after it opened, with
	// 1000 and a reason asking the client to reconnect. 0: never.
	MaxLifetime time.Duration
	// MaxMessagesPerSecond and MaxBytesPerSecond bound what each client
	// sends (a burst of one second's worth); over them the client is closed
	// with 1008. 0: no bound.
	MaxMessagesPerSecond float64
	MaxBytesPerSecond    float64
	// MaxQueued bounds the bytes of the messages waiting to be written to
	// one client (one message is always taken); a client whose queue is full
	// reads too slowly and is closed with 1008.
	MaxQueued int64

	// CleanupOnServerClose invokes cleanup for closes this side starts too.
	CleanupOnServerClose bool
	// CloseOnFailure closes a client whose transmission failed with 1011;
	// false drops it without a close frame, as the legacy gateway.
	CloseOnFailure bool
	// ShutdownCode is the close code of Shutdown.
	ShutdownCode websocket.StatusCode
	// CheckOrigin refuses (403, before register) a browser's handshake from
	// a page of another origin than the request's host, unless its host
	// matches one of OriginPatterns (path.Match; "*" allows every origin).
	CheckOrigin    bool
	OriginPatterns []string
	// TrustRequestID takes requestContext.requestId from the request's
	// X-Scf-Request-Id (which only the platform can set in front of a Web
	// function); false: a fresh ID each time.
	TrustRequestID bool
	// NoContextTakeover applies an accepted permessage-deflate without
	// context takeover either way, so a connection keeps no compression
	// window between messages.
	NoContextTakeover bool
	// RequestTimeout bounds reading a request that is not a WebSocket
	// (headers and body) and answering it. 0: none beyond the headers'.
	RequestTimeout time.Duration
	// MaxPending bounds the connections that are not (yet) WebSockets;
	// one more is closed at once. 0: no bound.
	MaxPending int
	// EnvAtStart, KeepClientOnFailedPush and ApplyExtensions: see package
	// emulator.
	EnvAtStart             bool
	KeepClientOnFailedPush bool
	ApplyExtensions        bool

	Logger  *slog.Logger
	LogData bool
	// LogPrefix starts every log message ("emulator", "host").
	LogPrefix string
}

// Server is the gateway. Its methods are safe for concurrent use.
type Server struct {
	opts  Options
	stage string
	api   string
	log   *slog.Logger

	listener net.Listener
	http     *http.Server
	fns      Functions

	mu       sync.Mutex
	conns    map[string]*conn
	reserved int // handshakes between reserve and add or release
	started  bool
	closing  bool
	sessions sync.WaitGroup

	pendingMu sync.Mutex
	pending   map[net.Conn]struct{}
}

// Listen returns a Server listening on opts.Addr, not serving yet.
func Listen(opts Options) (*Server, error) {
	s := &Server{conns: map[string]*conn{}, opts: opts, pending: map[net.Conn]struct{}{}}
	o := &s.opts
	if o.Path != "" && !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	if o.NewConnectionID == nil {
		o.NewConnectionID = func(bool) string { return newConnectionID() }
	}
	if o.IdleCode == 0 {
		o.IdleCode = websocket.StatusGoingAway
	}
	if o.ShutdownCode == 0 {
		o.ShutdownCode = websocket.StatusGoingAway
	}
	if o.LogPrefix == "" {
		o.LogPrefix = "gateway"
	}
	s.stage, s.api = "release", o.Path
	if parts := strings.SplitN(strings.TrimPrefix(o.Path, "/"), "/", 2); len(parts) == 2 {
		s.stage, s.api = parts[0], "/"+parts[1]
	}
	s.log = o.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	l, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return nil, fmt.Errorf("%s: listen: %w", o.LogPrefix, err)
	}
	s.listener = l
	return s, nil
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the WebSocket URL clients connect to.
func (s *Server) URL() string {
	p := s.opts.Path
	if p == "" {
		p = "/"
	}
	return "ws://" + s.Addr() + p
}

// PushURL returns the reverse-push URL.
func (s *Server) PushURL() string {
	if s.opts.PushPath == "" {
		return s.opts.PushURL
	}
	return "http://" + s.Addr() + s.opts.PushPath
}

// environment is what every invocation gets, as the console's environment
// variables: the push URL under both names; nothing without a push
// endpoint (the host: its push client is made in main).
func (s *Server) environment() map[string]string {
	if s.opts.PushPath == "" {
		return nil
	}
	return map[string]string{"SCFWS_PUSH_URL": s.PushURL(), "wsBackUrl": s.PushURL()}
}

// Start starts the function binaries among fns, then serves in the
// background until Shutdown. It fails when called twice.
func (s *Server) Start(ctx context.Context, fns Functions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closing {
		return fmt.Errorf("%s: Start on a started or shut down server", s.opts.LogPrefix)
	}
	var env map[string]string
	if s.opts.EnvAtStart {
		env = s.environment()
	}
	for _, h := range fns.all() {
		if st, ok := h.(Starter); ok {
			if err := st.Start(ctx, env, s.environment()); err != nil {
				fns.stop()
				return fmt.Errorf("%s: start function: %w", s.opts.LogPrefix, err)
			}
		}
	}
	mux := http.NewServeMux()
	if s.opts.PushPath != "" {
		mux.HandleFunc(s.opts.PushPath, s.servePush)
	}
	if s.opts.Path != "" {
		mux.HandleFunc(s.opts.Path, s.serveWebSocket)
		if s.opts.Handler != nil {
			mux.Handle("/", s.opts.Handler)
		}
	} else {
		mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
			if s.opts.Handler != nil && !headerHasToken(r.Header, "Upgrade", "websocket") {
				s.opts.Handler.ServeHTTP(w, r)
				return
			}
			s.serveWebSocket(w, r)
		})
	}
	var handler http.Handler = mux
	if t := s.opts.RequestTimeout; t > 0 {
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			// a body announced and never sent cannot hold the connection
			// (a handshake's connection is freed of it when hijacked)
			rc := http.NewResponseController(w)
			_ = rc.SetReadDeadline(time.Now().Add(t))
			_ = rc.SetWriteDeadline(time.Now().Add(t))
			mux.ServeHTTP(w, r)
		})
	}
	s.fns, s.started = fns, true
	// The limit on headers counts from the request line (net/http adds 4 KB
	// of slack of its own).
	s.http = &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 60 << 10, ConnState: s.countPending}
	go func() { _ = s.http.Serve(s.listener) }()
	return nil
}

// Shutdown stops accepting connections, closes every client with
// ShutdownCode behind the messages queued for it (running cleanup with
// CleanupOnServerClose, while pushes are still delivered so cleanup can
// push to the others; clients still open when ctx ends are dropped), then stops the HTTP
// server and the function binaries. ctx bounds the wait. It frees an
// unstarted server's listener too.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	open := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		open = append(open, c)
	}
	started := s.started
	s.mu.Unlock()
	if !started {
		return s.listener.Close()
	}
	s.fns.drain() // a binary that dies now is not started again
	for _, c := range open {
		// behind what is queued: a push answered success is written first
		if !c.terminal.Load() {
			c.resumable.Store(true)
		}
		c.closeBehind(s.opts.ShutdownCode, "server shutting down: reconnect")
	}
	var err error
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		for _, c := range open {
			c.drop() // out of time: what is still queued is lost
		}
	}
	err = errors.Join(err, s.http.Shutdown(ctx)) // hijacked WebSockets are not waited for
	s.fns.stop()
	return err
}

// CloseAll closes every connection with code and reason, as Shutdown does
// but without stopping: cleanup runs for each (with CleanupOnServerClose);
// a reliable client resumes.
func (s *Server) CloseAll(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	open := make([]*conn, 0, len(s.conns))
	for _, c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
	for _, c := range open {
		c.closeResumable(code, reason)
	}
}

// countPending keeps Options.MaxPending: connections that are not
// WebSockets (new, reading a request, idle between requests) are counted
// until hijacked or closed; one over the bound is closed at once.
func (s *Server) countPending(nc net.Conn, state http.ConnState) {
	if s.opts.MaxPending <= 0 {
		return
	}
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	switch state {
	case http.StateNew:
		if len(s.pending) >= s.opts.MaxPending {
			_ = nc.Close()
			return
		}
		s.pending[nc] = struct{}{}
	case http.StateHijacked, http.StateClosed:
		delete(s.pending, nc)
	}
}

// Open returns how many connections are open.
func (s *Server) Open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// reserve takes a place for a handshake about to invoke the register
// function; false when MaxConnections are open or reserved.
func (s *Server) reserve() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxConnections > 0 && len(s.conns)+s.reserved >= s.opts.MaxConnections {
		return false
	}
	s.reserved++
	return true
}

// release gives back a reserved place whose handshake was refused.
func (s *Server) release() {
	s.mu.Lock()
	s.reserved--
	s.mu.Unlock()
}

// add turns a reserved place into an accepted connection; false when
// shutting down (the place is released).
func (s *Server) add(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved--
	if s.closing {
		return false
	}
	s.conns[c.id] = c
	s.sessions.Add(1) // under mu, so never after Shutdown's Wait began
	return true
}

func (s *Server) remove(c *conn) {
	s.mu.Lock()
	if s.conns[c.id] == c {
		delete(s.conns, c.id)
	}
	s.mu.Unlock()
}

// addResuming adds a resuming connection in a reserved place; false (the
// place released) when one with its ID is here already, or when shutting
// down.
func (s *Server) addResuming(c *conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reserved--
	if _, here := s.conns[c.id]; here || s.closing {
		return false
	}
	s.conns[c.id] = c
	s.sessions.Add(1)
	return true
}

// abandon forgets a resuming connection whose resume was refused.
func (s *Server) abandon(c *conn) {
	c.markGone()
	close(c.rel.parked) // pushes that found it go where it is kept
	c.cancel()
	s.remove(c)
	s.sessions.Done()
}

func (s *Server) lookup(id string) *conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

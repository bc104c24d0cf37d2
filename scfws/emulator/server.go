package emulator

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

// Option defaults; each Options field documents its own.
const (
	defaultAddr           = "127.0.0.1:0"
	defaultPath           = "/release/websocket"
	defaultPushPath       = "/api-local"
	defaultInvokeTimeout  = 3 * time.Second
	defaultMaxConnections = 10000
	defaultMaxMessageSize = 6 << 20 // SCF's synchronous request limit
)

// Options configures a Server. A nil *Options means the zero value, whose
// fields all mean their defaults.
type Options struct {
	// Addr is the listening address. "": "127.0.0.1:0" (a free port).
	Addr string
	// Path is the WebSocket path, stage first: "/release/websocket" (the
	// default) gives the event stage "release" and path "/websocket".
	Path string
	// PushPath is the reverse-push path on the same listener. "": "/api-local".
	PushPath string
	// Handler serves every other path on the same listener (a page, say).
	// Nil: 404.
	Handler http.Handler
	// IdleTimeout closes a client that sent nothing for that long (the
	// API's backend timeout). 0: never.
	IdleTimeout time.Duration
	// InvokeTimeout is each invocation's deadline. 0: 3 s (SCF's default).
	InvokeTimeout time.Duration
	// MaxConnections bounds open connections. 0: 10,000.
	MaxConnections int
	// MaxMessageSize bounds a client message and a push's data, in bytes.
	// 0: 6 MB.
	MaxMessageSize int64
	// The gateway's behaviour where Tencent's documents leave room, strict
	// by default so that what works locally works in the cloud:
	//
	// CleanupOnServerClose also invokes cleanup for closes the gateway side
	// starts (a closing push, the idle timeout, a failed invocation or push,
	// shutdown). Default false: cleanup only for closes the client starts,
	// the only ones Tencent documents it for.
	CleanupOnServerClose bool
	// EnvAtStart also gives function binaries SCFWS_PUSH_URL and wsBackUrl
	// in their process environment at start. Default false: only with each
	// invocation, as SCF's Go runtime is documented to (os.Setenv per
	// invocation).
	EnvAtStart bool
	// KeepClientOnFailedPush keeps a client connected after a push to it was
	// answered with anything but success. Default false: dropped, as the
	// gateway does (FIN) after a non-200 push answer.
	KeepClientOnFailedPush bool
	// ApplyExtensions really applies a permessage-deflate that the register
	// function accepted. Default false: the answer is passed through in the
	// handshake, not applied (whether the gateway implements it is not
	// documented), so a client that compresses fails here as it may there.
	ApplyExtensions bool

	// Logger gets a line per event and per push. Nil: no logging.
	Logger *slog.Logger
	// LogData adds message data to those lines. Default false.
	LogData bool
}

// Server is the emulated gateway. Its methods are safe for concurrent use.
type Server struct {
	opts  Options
	stage string
	api   string
	log   *slog.Logger

	listener net.Listener
	http     *http.Server
	fns      Functions

	mu       sync.Mutex
	conns    map[string]*client
	reserved int // handshakes between reserve and add or release
	started  bool
	closing  bool
	sessions sync.WaitGroup
}

// NewServer starts a Server with fns (their binaries too, see [Binary]) and
// returns it serving, like httptest.NewServer. Shut it down when done.
func NewServer(ctx context.Context, fns Functions, opts *Options) (*Server, error) {
	s, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx, fns); err != nil {
		_ = s.listener.Close()
		return nil, err
	}
	return s, nil
}

// NewUnstartedServer returns a Server that listens but does not serve yet:
// its URL and PushURL are known, for functions that need them before they
// exist. Call Start, or Shutdown to free the listener.
func NewUnstartedServer(opts *Options) (*Server, error) {
	s := &Server{conns: map[string]*client{}}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	if o.Addr == "" {
		o.Addr = defaultAddr
	}
	if o.Path == "" {
		o.Path = defaultPath
	}
	if !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	if o.PushPath == "" {
		o.PushPath = defaultPushPath
	}
	if o.InvokeTimeout <= 0 {
		o.InvokeTimeout = defaultInvokeTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = defaultMaxConnections
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = defaultMaxMessageSize
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
		return nil, fmt.Errorf("emulator: listen: %w", err)
	}
	s.listener = l
	return s, nil
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the WebSocket URL clients connect to.
func (s *Server) URL() string { return "ws://" + s.Addr() + s.opts.Path }

// PushURL returns the reverse-push URL, the value of SCFWS_PUSH_URL.
func (s *Server) PushURL() string { return "http://" + s.Addr() + s.opts.PushPath }

// environment is what every function gets, as the console's environment
// variables: the push URL under both names.
func (s *Server) environment() map[string]string {
	return map[string]string{"SCFWS_PUSH_URL": s.PushURL(), "wsBackUrl": s.PushURL()}
}

// Start starts the function binaries among fns, then serves in the
// background until Shutdown. It fails when called twice.
func (s *Server) Start(ctx context.Context, fns Functions) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started || s.closing {
		return errors.New("emulator: Start on a started or shut down server")
	}
	var env map[string]string
	if s.opts.EnvAtStart {
		env = s.environment()
	}
	for _, h := range fns.all() {
		if st, ok := h.(starter); ok {
			if err := st.start(ctx, env, s.environment()); err != nil {
				fns.stop()
				return fmt.Errorf("emulator: start function: %w", err)
			}
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc(s.opts.Path, s.serveWebSocket)
	mux.HandleFunc(s.opts.PushPath, s.servePush)
	if s.opts.Handler != nil {
		mux.Handle("/", s.opts.Handler)
	}
	s.fns, s.started = fns, true
	s.http = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		MaxHeaderBytes: 64 << 10}
	go func() { _ = s.http.Serve(s.listener) }()
	return nil
}

// Shutdown stops accepting connections, closes every client (1001) — with
// Options.CleanupOnServerClose it runs their cleanup, while the push
// endpoint keeps serving so cleanup can still push to the others — then
// stops the HTTP server and the function binaries. ctx bounds the wait. It frees an unstarted server's listener too.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	open := make([]*client, 0, len(s.conns))
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
		c.close(websocket.StatusGoingAway, "gateway shutting down")
	}
	var err error
	done := make(chan struct{})
	go func() { s.sessions.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
	}
	err = errors.Join(err, s.http.Shutdown(ctx)) // hijacked WebSockets are not waited for
	s.fns.stop()
	return err
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
	if len(s.conns)+s.reserved >= s.opts.MaxConnections {
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
func (s *Server) add(c *client) bool {
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

func (s *Server) remove(id string) {
	s.mu.Lock()
	delete(s.conns, id)
	s.mu.Unlock()
}

func (s *Server) lookup(id string) *client {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns[id]
}

package emulator

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/coder/websocket"

	"github.com/scfws/scfws-go/internal/gateway"
	"github.com/scfws/scfws-go/scfws"
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
	g *gateway.Server
}

// NewServer starts a Server with fns (their binaries too, see [Binary]) and
// returns it serving, like httptest.NewServer. Shut it down when done.
func NewServer(ctx context.Context, fns scfws.Functions, opts *Options) (*Server, error) {
	s, err := NewUnstartedServer(opts)
	if err != nil {
		return nil, err
	}
	if err := s.Start(ctx, fns); err != nil {
		_ = s.g.Shutdown(ctx) // frees the listener of a server that did not start
		return nil, err
	}
	return s, nil
}

// NewUnstartedServer returns a Server that listens but does not serve yet:
// its URL and PushURL are known, for functions that need them before they
// exist. Call Start, or Shutdown to free the listener.
func NewUnstartedServer(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Addr == "" {
		o.Addr = defaultAddr
	}
	if o.Path == "" {
		o.Path = defaultPath
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
	g, err := gateway.Listen(gateway.Options{
		Addr: o.Addr, Path: o.Path, PushPath: o.PushPath, Handler: o.Handler, ServiceID: "service-local",
		InvokeTimeout: o.InvokeTimeout, MaxConnections: o.MaxConnections, MaxMessageSize: o.MaxMessageSize,
		IdleTimeout: o.IdleTimeout, IdleCode: websocket.StatusGoingAway, MaxQueued: 4 * o.MaxMessageSize,
		CleanupOnServerClose: o.CleanupOnServerClose, ShutdownCode: websocket.StatusGoingAway,
		EnvAtStart: o.EnvAtStart, KeepClientOnFailedPush: o.KeepClientOnFailedPush,
		ApplyExtensions: o.ApplyExtensions, Logger: o.Logger, LogData: o.LogData, LogPrefix: "emulator",
	})
	if err != nil {
		return nil, err
	}
	return &Server{g: g}, nil
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.g.Addr() }

// URL returns the WebSocket URL clients connect to.
func (s *Server) URL() string { return s.g.URL() }

// PushURL returns the reverse-push URL, the value of SCFWS_PUSH_URL.
func (s *Server) PushURL() string { return s.g.PushURL() }

// Start starts the function binaries among fns, then serves in the
// background until Shutdown. It fails when called twice.
func (s *Server) Start(ctx context.Context, fns scfws.Functions) error {
	return s.g.Start(ctx, gateway.Functions(fns))
}

// Shutdown stops accepting connections, closes every client (1001) — with
// Options.CleanupOnServerClose it runs their cleanup, while the push
// endpoint keeps serving so cleanup can still push to the others — then
// stops the HTTP server and the function binaries. ctx bounds the wait. It
// frees an unstarted server's listener too.
func (s *Server) Shutdown(ctx context.Context) error { return s.g.Shutdown(ctx) }

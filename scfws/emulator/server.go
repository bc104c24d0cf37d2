package emulator

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/scfws/scfws-go/scfws"
)

// Defaults of the Options fields.
const (
	DefaultPath           = "/release/websocket"
	DefaultPushPath       = "/api-local"
	DefaultInvokeTimeout  = 3 * time.Second
	DefaultMaxConnections = 10000
	DefaultMaxMessageSize = 6 << 20 // SCF's synchronous request limit
)

// Options configures a Server. A nil *Options means the zero value.
type Options struct {
	// Path is the WebSocket path, stage first: "/release/websocket" (the
	// default) gives the event stage "release" and path "/websocket".
	Path string
	// PushPath is the reverse-push path on the same listener; "" means
	// "/api-local".
	PushPath string
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
	// Logger gets a line per event and per push. Nil: no logging.
	Logger *slog.Logger
	// Verbose adds message data to those lines.
	Verbose bool
}

// Server is the emulated gateway. Make it with New, then Listen, then Start
// (or Serve). Its methods are safe for concurrent use.
type Server struct {
	opts  Options
	stage string
	api   string
	mux   *http.ServeMux
	log   *slog.Logger

	fns      Functions
	listener net.Listener
	http     *http.Server

	mu       sync.Mutex
	conns    map[string]*client
	closing  bool
	sessions sync.WaitGroup
}

// New returns a Server; it does not listen yet.
func New(opts *Options) *Server {
	s := &Server{conns: map[string]*client{}, mux: http.NewServeMux()}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	if o.Path == "" {
		o.Path = DefaultPath
	}
	if !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	if o.PushPath == "" {
		o.PushPath = DefaultPushPath
	}
	if o.InvokeTimeout <= 0 {
		o.InvokeTimeout = DefaultInvokeTimeout
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = DefaultMaxMessageSize
	}
	s.stage, s.api = "release", o.Path
	if parts := strings.SplitN(strings.TrimPrefix(o.Path, "/"), "/", 2); len(parts) == 2 {
		s.stage, s.api = parts[0], "/"+parts[1]
	}
	s.log = o.Logger
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.mux.HandleFunc(o.Path, s.serveWebSocket)
	s.mux.HandleFunc(o.PushPath, s.servePush)
	return s
}

// Handle adds a handler for other paths on the same listener (e.g. a page).
// Call it before Start.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Listen binds addr ("127.0.0.1:8080"; port 0 picks one). After it, URL and
// PushURL are known.
func (s *Server) Listen(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator: listen: %w", err)
	}
	s.listener = l
	return nil
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.listener.Addr().String() }

// URL returns the WebSocket URL clients connect to.
func (s *Server) URL() string { return "ws://" + s.Addr() + s.opts.Path }

// PushURL returns the reverse-push URL, the value for SCFWS_PUSH_URL.
func (s *Server) PushURL() string { return "http://" + s.Addr() + s.opts.PushPath }

// Start starts the function binaries among fns with SCFWS_PUSH_URL (and
// wsBackUrl) set, then serves in the background until Shutdown.
func (s *Server) Start(ctx context.Context, fns Functions) error {
	if s.listener == nil {
		return errors.New("emulator: Start before Listen")
	}
	env := map[string]string{"SCFWS_PUSH_URL": s.PushURL(), "wsBackUrl": s.PushURL()}
	for _, inv := range []Invoker{fns.Register, fns.Transmission, fns.Cleanup} {
		if st, ok := inv.(starter); ok {
			if err := st.start(ctx, env); err != nil {
				s.stopFunctions(fns)
				return fmt.Errorf("emulator: start function: %w", err)
			}
		}
	}
	s.fns = fns
	s.http = &http.Server{Handler: s.mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.http.Serve(s.listener) }()
	return nil
}

func (s *Server) stopFunctions(fns Functions) {
	for _, inv := range []Invoker{fns.Register, fns.Transmission, fns.Cleanup} {
		if st, ok := inv.(starter); ok {
			_ = st.close()
		}
	}
}

// Shutdown stops accepting connections, closes every client (1001) and runs
// its cleanup — the push endpoint keeps serving meanwhile, so cleanup can
// still push to the others — then stops the HTTP server and the function
// binaries. ctx bounds the wait.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	open := make([]*client, 0, len(s.conns))
	for _, c := range s.conns {
		open = append(open, c)
	}
	s.mu.Unlock()
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
	if s.http != nil {
		err = errors.Join(err, s.http.Shutdown(ctx)) // hijacked WebSockets are not waited for
	} else if s.listener != nil {
		err = errors.Join(err, s.listener.Close())
	}
	s.stopFunctions(s.fns)
	return err
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

// invoke calls fn with a fresh request ID and the deadline.
func (s *Server) invoke(ctx context.Context, name string, fn Invoker, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.InvokeTimeout)
	defer cancel()
	ctx = functioncontext.NewContext(ctx, &functioncontext.FunctionContext{
		RequestID: newRequestID(), FunctionName: name, Namespace: "default",
		TimeLimitInMs: int32(s.opts.InvokeTimeout / time.Millisecond),
		Environment:   map[string]string{"SCFWS_PUSH_URL": s.PushURL(), "wsBackUrl": s.PushURL()},
	})
	type result struct {
		out []byte
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				ch <- result{err: fmt.Errorf("emulator: %s panicked: %v", name, v)}
			}
		}()
		out, err := fn.Invoke(ctx, payload)
		ch <- result{out, err}
	}()
	select {
	case r := <-ch:
		return r.out, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("emulator: %s: %w", name, ctx.Err())
	}
}

// newConnectionID returns 16 random bytes in standard base64, as the gateway.
func newConnectionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// refusal is why a handshake was refused.
type refusal struct {
	status int
	reason string
}

func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	if s.isClosing() {
		http.Error(w, "gateway shutting down", http.StatusServiceUnavailable)
		return
	}
	if !isUpgrade(r) { // no function runs for what is not a WebSocket handshake
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "this is a WebSocket endpoint: connect with a WebSocket client", http.StatusUpgradeRequired)
		return
	}
	start := time.Now()
	id := newConnectionID()
	ev := s.registerEvent(r, id)
	answer, ref := s.register(context.Background(), ev)
	if ref != nil {
		s.log.Warn("emulator: connection refused", "secConnectionID", id, "status", ref.status, "reason", ref.reason,
			"latency", time.Since(start))
		http.Error(w, ref.reason, ref.status)
		return
	}
	c := newClient(s, id)
	if !s.add(c) {
		http.Error(w, "gateway shutting down", http.StatusServiceUnavailable)
		s.cleanup(id) // the register function accepted it
		return
	}
	ws, err := websocket.Accept(w, r, s.acceptOptions(answer))
	if err != nil {
		s.log.Warn("emulator: handshake failed", "secConnectionID", id, "err", err)
		c.finish()
		return
	}
	ws.SetReadLimit(s.opts.MaxMessageSize)
	c.accepted(ws)
	s.log.Info("emulator: connected", "secConnectionID", id, "subprotocol", ws.Subprotocol(),
		"latency", time.Since(start))
	c.serve()
}

// isUpgrade reports whether r asks for a WebSocket (RFC 6455 §4.2.1).
func isUpgrade(r *http.Request) bool {
	return r.Method == http.MethodGet && strings.EqualFold(r.Header.Get("Upgrade"), "websocket") &&
		r.Header.Get("Sec-WebSocket-Key") != ""
}

func protocolOf(r *scfws.RegisterResponse) string {
	if r.WebSocket == nil {
		return ""
	}
	return r.WebSocket.SecWebSocketProtocol
}

func (s *Server) acceptOptions(answer *scfws.RegisterResponse) *websocket.AcceptOptions {
	opts := &websocket.AcceptOptions{InsecureSkipVerify: true, CompressionMode: websocket.CompressionDisabled}
	if p := protocolOf(answer); p != "" {
		opts.Subprotocols = []string{p}
	}
	if answer.WebSocket != nil {
		for _, ext := range scfws.ParseExtensions(answer.WebSocket.SecWebSocketExtensions) {
			if ext.Name == "permessage-deflate" {
				opts.CompressionMode = websocket.CompressionContextTakeover
				for _, p := range ext.Params {
					if p.Name == "server_no_context_takeover" {
						opts.CompressionMode = websocket.CompressionNoContextTakeover
					}
				}
			}
		}
	}
	return opts
}

func (s *Server) add(c *client) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
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

func (s *Server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// registerEvent builds the register event of DESIGN §1 from the handshake.
func (s *Server) registerEvent(r *http.Request, id string) *scfws.RegisterEvent {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ev := &scfws.RegisterEvent{
		RequestContext: &scfws.RequestContext{
			ServiceID: "service-local", Path: s.api, HTTPMethod: r.Method, RequestID: newRequestID(),
			Identity: &scfws.Identity{}, SourceIP: host, Stage: s.stage, WebSocketEnable: true,
		},
		WebSocket: scfws.RegisterWebSocket{
			Action: scfws.ActionConnecting, SecConnectionID: id,
			SecWebSocketProtocol:   strings.Join(r.Header.Values("Sec-WebSocket-Protocol"), ", "),
			SecWebSocketExtensions: strings.Join(r.Header.Values("Sec-WebSocket-Extensions"), ", "),
		},
	}
	return ev
}

// register invokes the register function and checks its answer.
func (s *Server) register(ctx context.Context, ev *scfws.RegisterEvent) (*scfws.RegisterResponse, *refusal) {
	if s.count() >= s.opts.MaxConnections {
		return nil, &refusal{http.StatusServiceUnavailable, fmt.Sprintf("too many connections (max %d)", s.opts.MaxConnections)}
	}
	if s.fns.Register == nil {
		return &scfws.RegisterResponse{}, nil
	}
	payload, _ := json.Marshal(ev)
	start := time.Now()
	out, err := s.invoke(ctx, "register", s.fns.Register, payload)
	s.logEvent(ev.WebSocket.Action, ev.WebSocket.SecConnectionID, start, err, "")
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, &refusal{http.StatusGatewayTimeout, "register function timed out"}
	}
	if err != nil {
		return nil, &refusal{http.StatusBadGateway, "register function failed: " + err.Error()}
	}
	var resp struct {
		ErrNo     *int                             `json:"errNo"`
		ErrMsg    string                           `json:"errMsg"`
		WebSocket *scfws.RegisterResponseWebSocket `json:"websocket"`
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.ErrNo == nil {
		return nil, &refusal{http.StatusBadGateway, fmt.Sprintf("register function answered %q, not a register response", out)}
	}
	if *resp.ErrNo != 0 {
		return nil, &refusal{http.StatusForbidden, fmt.Sprintf("refused by the register function: errNo %d: %s", *resp.ErrNo, resp.ErrMsg)}
	}
	answer := &scfws.RegisterResponse{ErrNo: 0, ErrMsg: resp.ErrMsg, WebSocket: resp.WebSocket}
	if p := protocolOf(answer); p != "" {
		if offered := ev.Subprotocols(); !slices.Contains(offered, p) {
			return nil, &refusal{http.StatusBadGateway, fmt.Sprintf(
				"register function answered subprotocol %q, which is not one token the client offered (%q)",
				p, ev.WebSocket.SecWebSocketProtocol)}
		}
	}
	return answer, nil
}

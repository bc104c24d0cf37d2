// Package fakecloud is a local Tencent Cloud for the SCF actions that
// scfws deploy uses: it checks each request as the real API does (TC3
// signature computed from the documented algorithm, action, version,
// region, required and unknown fields), answers in Tencent's envelopes,
// models a function's states (Creating, Active, Updating, the Failed ones),
// can inject errors, and runs what was deployed: it unpacks the zip, starts
// scf_bootstrap with the function's environment and a PORT, and serves the
// function URL by proxying to it, one instance per connection unless the
// function's concurrency allows more.
package fakecloud

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
)

type credential struct{ key, token string }

// Server is the fake cloud. Its methods are safe for concurrent use.
type Server struct {
	api, tls *httptest.Server
	log      *slog.Logger
	output   io.Writer // the instances' stdout and stderr
	creds    map[string]credential

	mu        sync.Mutex
	functions map[string]*function // by region/namespace/name
	urls      map[string]*function // by URL ID
	calls     []string
	inject    []injection
	// Settle is how many GetFunction calls a Creating or Updating function
	// takes to settle.
	settle int
}

type injection struct {
	action, code string
	times        int
}

// Options configures a Server; nil means the zero value.
type Options struct {
	// Addr is the API's (and the ws:// function URLs') address. "": a free
	// loopback port.
	Addr string
	// Logger gets a line per error answered. Nil: none.
	Logger *slog.Logger
	// Output gets what the instances print. Nil: discarded.
	Output io.Writer
}

// New starts a fake cloud that accepts the credential secretID/secretKey
// (and token, when not ""). Close it when done.
func New(secretID, secretKey, token string, opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Output == nil {
		o.Output = io.Discard
	}
	s := &Server{log: o.Logger, output: o.Output, creds: map[string]credential{secretID: {secretKey, token}},
		functions: map[string]*function{}, urls: map[string]*function{}, settle: 2}
	s.api = httptest.NewUnstartedServer(s)
	if o.Addr != "" {
		l, err := net.Listen("tcp", o.Addr)
		if err != nil {
			return nil, err
		}
		_ = s.api.Listener.Close()
		s.api.Listener = l
	}
	s.api.Start()
	s.tls = httptest.NewTLSServer(s)
	return s, nil
}

// Endpoint is the API's address, for scfws deploy -endpoint.
func (s *Server) Endpoint() string { return s.api.URL }

// Client trusts the fake's TLS certificate (wss:// function URLs).
func (s *Server) Client() *http.Client { return s.tls.Client() }

// Close stops every instance and the servers.
func (s *Server) Close() {
	s.mu.Lock()
	fns := make([]*function, 0, len(s.functions))
	for _, f := range s.functions {
		fns = append(fns, f)
	}
	s.mu.Unlock()
	for _, f := range fns {
		f.stopInstances()
	}
	s.api.Close()
	s.tls.Close()
}

// Calls returns the actions called so far, in order.
func (s *Server) Calls() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

// Inject makes the next times calls of action ("*": any) answer the error
// code (RequestLimitExceeded, InternalError, …).
func (s *Server) Inject(action, code string, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inject = append(s.inject, injection{action, code, times})
}

// SetSettle sets how many GetFunction calls a Creating or Updating
// function takes to settle (default 2).
func (s *Server) SetSettle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle = n
}

// apiError is an answer with an Error.
type apiError struct{ Code, Message string }

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if id, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/url/"), "/"); ok && strings.HasPrefix(r.URL.Path, "/url/") {
		s.serveURL(w, r, id, "/"+rest)
		return
	}
	reqID := newID(16)
	out, aerr := s.api1(r)
	var resp map[string]any
	if aerr != nil {
		s.log.Info("fakecloud: error", "action", r.Header.Get("X-TC-Action"), "code", aerr.Code)
		resp = map[string]any{"Error": aerr}
	} else {
		raw, _ := json.Marshal(out)
		_ = json.Unmarshal(raw, &resp)
		if resp == nil {
			resp = map[string]any{}
		}
	}
	resp["RequestId"] = reqID
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"Response": resp})
}

const maxRequest = 10_000_000

// api1 checks one API request and runs its action.
func (s *Server) api1(r *http.Request) (any, *apiError) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		return nil, &apiError{"InvalidParameter", "POST / only"}
	}
	// the TC3 request limit, 10 MB (1278/46710), read strictly as 10^7
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil || len(body) > maxRequest-4096 { // and the request line and headers
		return nil, &apiError{"RequestSizeLimitExceeded", "the request is over 10 MB"}
	}
	action := r.Header.Get("X-TC-Action")
	if code, msg, service := s.verify(r, body); code != "" {
		return nil, &apiError{code, msg}
	} else if service != "scf" {
		return nil, &apiError{"InvalidAction", "service " + service + " is not served here"}
	}
	if v := r.Header.Get("X-TC-Version"); v != "2018-04-16" {
		return nil, &apiError{"NoSuchVersion", fmt.Sprintf("the version %q of scf does not exist", v)}
	}
	region := r.Header.Get("X-TC-Region")
	if region == "" {
		return nil, &apiError{"MissingParameter", "the region (X-TC-Region) is missing"}
	}
	h, ok := actions[action]
	if !ok {
		return nil, &apiError{"InvalidAction", fmt.Sprintf("the action %q does not exist", action)}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, action)
	for i := range s.inject {
		if in := &s.inject[i]; in.times > 0 && (in.action == "*" || in.action == action) {
			in.times--
			return nil, &apiError{in.code, "injected by fakecloud"}
		}
	}
	return h(s, region, body)
}

func newID(n int) string {
	b := make([]byte, n/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

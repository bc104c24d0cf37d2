package host

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/scfws/scfws-go/internal/gateway"
	"github.com/scfws/scfws-go/internal/wire"
	"github.com/scfws/scfws-go/scfws"
)

// Option defaults, from Tencent's documents for Web functions with
// WebSocket; each Options field documents its own.
const (
	defaultPort            = "9000"
	defaultMaxMessageSize  = 256 << 10
	defaultMessagesPerSec  = 10
	defaultBytesPerSec     = 128 << 10
	defaultMaxQueued       = 1 << 20
	defaultMaxConnections  = 10000
	defaultInvokeTimeout   = 3 * time.Second
	defaultHeartbeat       = 5 * time.Second
	defaultMaxLifetime     = 900*time.Second - 10*time.Second
	defaultShutdownTimeout = 10 * time.Second
	defaultChannelPrefix   = "scfws:instance:"
	defaultLease           = 5 * time.Second
	defaultMaxBusBacklog   = 16 << 20
	defaultMaxPending      = 256
	requestTimeout         = 10 * time.Second
	// pushURL names this host's pushes; it is never dialled: [Server.Client]
	// delivers them in-process, and the .invalid name resolves nowhere.
	pushURL = "http://scfws-host.invalid/push"
)

// Options configures a Server. A nil *Options means the zero value, whose
// fields all mean their defaults. A negative limit or duration means none.
type Options struct {
	// Addr is the listening address. "": 0.0.0.0 and the port in $PORT,
	// else 9000 — what a Web function must listen on.
	Addr string
	// Handler serves the requests that are not WebSocket upgrades (a page,
	// a health check), each within 10 s to read and answer. Nil: 426
	// Upgrade Required. Every path upgrades.
	Handler http.Handler
	// OriginPatterns are the hosts, besides the request's own, whose pages
	// may open a connection (path.Match patterns against the Origin's host:
	// "app.example.com", "*.example.com"; "*" allows every origin). A
	// browser's handshake from any other origin is refused with 403 before
	// the register function runs — cross-site WebSocket hijacking, since a
	// browser sends the user's cookies to your register function whatever
	// page opened the connection. A handshake without Origin (not a
	// browser) is not checked. Nil: the request's own host only.
	OriginPatterns []string
	// MaxPending bounds the connections that are not WebSockets (yet): new,
	// sending a request, or idle between requests; one more is closed at
	// once, so that slow or silent clients cannot take every file
	// descriptor (a Web function has 1,024). 0: 256.
	MaxPending int
	// Redis is the bus between instances (Redis ≥ 6.2, or Redis Cluster):
	// each instance holds a lease and reads a stream of its own, and a push
	// to a connection another instance holds is appended to that
	// instance's stream — one command per instance that holds some of a
	// broadcast's connections. See the package doc, "Pushing", for what
	// each answer then means. Nil: one instance, every push in-process.
	Redis redis.UniversalClient
	// ChannelPrefix starts the name of each instance's keys on Redis.
	// "": "scfws:instance:".
	ChannelPrefix string
	// Lease is how long an instance that stops renewing its lease (every
	// Lease/5) — killed, or cut off from Redis — is still taken for alive:
	// pushes to its connections are answered ErrPushUnavailable until it
	// has been found missing for another Lease, then refused. 0: 5 s.
	Lease time.Duration
	// MaxBusBacklog bounds the bytes waiting on Redis for an instance to
	// read, as this instance's pushes apply it to the instance they go to
	// (give every instance the same); a push that would pass it is answered
	// ErrPushUnavailable (not delivered, nothing pruned). 0: 16 MB.
	MaxBusBacklog int64

	// MaxMessageSize bounds a client message and a push, in bytes. 0: 256
	// KB, the Web function's limit. A larger client message closes it with
	// 1009.
	MaxMessageSize int64
	// MaxMessagesPerSecond bounds what each client sends, with a burst of
	// one second's worth; a client over it is closed with 1008. 0: 10, the
	// Web function's limit.
	MaxMessagesPerSecond float64
	// MaxBytesPerSecond likewise bounds the bytes each client sends, counted
	// on the wire — every frame, pings, pongs and continuation frames
	// included — with a burst of a second's worth or one MaxMessageSize
	// message, whichever is more; a client over it is closed with 1008 and
	// read no faster than the rate meanwhile. 0: 128 KB.
	MaxBytesPerSecond float64
	// MaxQueued bounds the bytes waiting to be written to one client (one
	// message is always taken, whatever its size); a client whose queue is
	// full reads too slowly and is closed with 1008 (the push that found it
	// full is refused). 0: 1 MB.
	MaxQueued int64
	// MaxConnections bounds the connections of this process; a handshake
	// over it is refused with 503. 0: 10,000.
	MaxConnections int
	// InvokeTimeout is the deadline of each call of a function. 0: 3 s.
	InvokeTimeout time.Duration
	// Heartbeat pings every client that often; one that does not answer
	// within the interval is dropped (and its cleanup runs). 0: 5 s, well
	// inside the Web function's default idle timeout of 15 s.
	Heartbeat time.Duration
	// MaxLifetime closes each connection that long after it opened, with
	// 1000 and the reason "connection lifetime reached: reconnect", before
	// the platform ends the invocation. 0: the function timeout that scfws
	// deploy sets in SCFWS_FUNCTION_TIMEOUT less 10 s (10 % when under
	// 100 s); without it 890 s (the longest timeout, 900 s, less 10 s).
	MaxLifetime time.Duration
	// IdleTimeout closes, with 1000, a client that sent nothing for that
	// long. 0: never (the platform has its own idle timeout).
	IdleTimeout time.Duration
	// ShutdownTimeout bounds Serve's shutdown: closing every connection and
	// running each cleanup. 0: 10 s.
	ShutdownTimeout time.Duration

	// ResumeWindow is how long a client in the reliable mode (it offers
	// the subprotocol "scfws.reliable.v1": package scfws/client, or
	// client.Script in a browser) that lost its socket — the lifetime
	// close, a shutdown or deploy, a network cut — can resume its
	// connection, on any instance, with every push it missed; its cleanup
	// runs only when the window ends without a resume. See the package
	// doc, "Staying connected across cuts". 0: 2 minutes; negative: no
	// reliable mode (the subprotocol is the register function's to
	// choose, as any other).
	ResumeWindow time.Duration
	// MaxResumeMessages and MaxResumeBytes bound what is kept for one
	// reliable connection: sent and not yet acknowledged while attached
	// (over them it is ended with 1008: the client does not acknowledge),
	// and buffered while detached (over them it cannot resume: its pushes
	// are refused, and its cleanup runs at the end of its window).
	// 0: 1,000 messages and 1 MB.
	MaxResumeMessages int
	MaxResumeBytes    int64
	// MaxParkedBytes bounds the bytes buffered for the detached
	// connections of one home instance (on Redis: per instance that
	// accepted them), past which a detached connection that needs more
	// cannot resume. 0: 64 MB.
	MaxParkedBytes int64
	// ResumeCheck, when set, is asked before each resume with the resuming
	// handshake and the connection's ID, and refuses it with an error (the
	// client gets 4001, as for a wrong token): bind a connection to its
	// user by checking that this request's credentials (a cookie, a token
	// in the query) are those of the user the register function accepted.
	// A resume runs no register function; without ResumeCheck the token
	// alone (single use, bound to the connection and to the Origin it was
	// opened from) admits it.
	ResumeCheck func(r *http.Request, connectionID string) error

	// Logger gets a line per connection, failed event and failed push
	// (Info), and per event (Info) when enabled. Nil: no logging.
	Logger *slog.Logger
	// LogData adds message data to those lines. Default false.
	LogData bool
}

// Server is one instance of the host. Its methods are safe for concurrent
// use.
type Server struct {
	g          *gateway.Server
	opts       Options
	instance   string
	bus        atomic.Pointer[bus] // set while serving with Options.Redis
	client     *http.Client
	keeper     keeper         // the reliable mode's; nil without it
	arrivals   []arrival      // used by the bus's reader only: see settle
	settling   chan []arrival // to settleLoop
	settleStop chan struct{}  // closed when Serve returns
}

// New returns a Server listening on Options.Addr, not serving yet: make
// the push client with [Server.Client] and your functions, then call
// [Server.Serve].
func New(opts *Options) (*Server, error) {
	s := &Server{instance: newInstanceID()}
	if opts != nil {
		s.opts = *opts
	}
	o := &s.opts
	if o.Addr == "" {
		port := os.Getenv("PORT")
		if port == "" {
			port = defaultPort
		}
		o.Addr = "0.0.0.0:" + port
	}
	if o.ChannelPrefix == "" {
		o.ChannelPrefix = defaultChannelPrefix
	}
	if o.MaxLifetime == 0 {
		o.MaxLifetime = lifetimeFromEnv()
	}
	g, err := gateway.Listen(gateway.Options{
		Addr: o.Addr, PushURL: pushURL, Handler: o.Handler, ServiceID: "scfws-host", RequestData: true,
		NewConnectionID: s.newConnectionID, Reliable: s.reliableHook(),
		MaxResumeMessages: int(orDefault(int64(o.MaxResumeMessages), defaultMaxResumeMessages)),
		MaxResumeBytes:    orDefault(o.MaxResumeBytes, defaultMaxResumeBytes),
		ResumeCheck:       o.ResumeCheck,
		InvokeTimeout:     orDefault(o.InvokeTimeout, defaultInvokeTimeout),
		MaxConnections:    int(orDefault(int64(o.MaxConnections), defaultMaxConnections)),
		MaxMessageSize:    orDefault(o.MaxMessageSize, defaultMaxMessageSize),
		IdleTimeout:       orDefault(o.IdleTimeout, 0), IdleCode: websocket.StatusNormalClosure,
		Heartbeat:            orDefault(o.Heartbeat, defaultHeartbeat),
		MaxLifetime:          orDefault(o.MaxLifetime, defaultMaxLifetime),
		MaxMessagesPerSecond: orDefault(o.MaxMessagesPerSecond, defaultMessagesPerSec),
		MaxBytesPerSecond:    orDefault(o.MaxBytesPerSecond, defaultBytesPerSec),
		MaxQueued:            orDefault(o.MaxQueued, defaultMaxQueued),
		CleanupOnServerClose: true, CloseOnFailure: true, ShutdownCode: websocket.StatusGoingAway,
		KeepClientOnFailedPush: true, ApplyExtensions: true, NoContextTakeover: true,
		CheckOrigin: true, OriginPatterns: o.OriginPatterns,
		TrustRequestID: os.Getenv("TENCENTCLOUD_RUNENV") == "SCF", // set by SCF, not settable by users
		RequestTimeout: requestTimeout,
		MaxPending:     int(orDefault(int64(o.MaxPending), defaultMaxPending)),
		Logger:         o.Logger, LogData: o.LogData, LogPrefix: "host",
	})
	if err != nil {
		return nil, err
	}
	s.g = g
	s.client = &http.Client{Transport: transport{s}}
	if o.ResumeWindow >= 0 {
		if o.Redis != nil {
			s.keeper = &redisKeeper{limits: s.limits(), s: s, rdb: o.Redis, prefix: o.ChannelPrefix, self: s.instance,
				homes: map[string]int{}, cleanup: g.Cleanup}
		} else {
			s.keeper = newMemKeeper(s.limits(), g.Cleanup)
		}
	}
	return s, nil
}

// lifetimeFromEnv is the default MaxLifetime: the function timeout that
// scfws deploy puts in SCFWS_FUNCTION_TIMEOUT (seconds) less a margin of
// 10 s (10 % when shorter than 100 s), else 890 s.
func lifetimeFromEnv() time.Duration {
	secs, err := strconv.Atoi(os.Getenv("SCFWS_FUNCTION_TIMEOUT"))
	if err != nil || secs <= 0 {
		return defaultMaxLifetime
	}
	t := time.Duration(secs) * time.Second
	return max(t-10*time.Second, t*9/10)
}

// orDefault is v, or def when v is 0, or 0 (none) when v is negative.
func orDefault[T int64 | float64 | time.Duration](v, def T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return 0
	}
	return v
}

// Addr returns the listening address.
func (s *Server) Addr() string { return s.g.Addr() }

// URL returns a WebSocket URL of this instance (any path upgrades).
func (s *Server) URL() string { return s.g.URL() }

// PushURL returns the push URL to give scfws.NewPushClient with
// [Server.Client]; it is never dialled.
func (s *Server) PushURL() string { return pushURL }

// Client returns the HTTP client that delivers this host's pushes without
// a socket: a push to a connection this instance holds is queued for it; a
// push to one another instance holds crosses Redis (see the package doc,
// "Pushing", for what each answer means there). Give it to
// scfws.NewPushClient with [Server.PushURL]:
//
//	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
//
// The answers are the gateway's: success once queued here or appended to
// the live instance that holds the connection; 404 ([scfws.ErrPushRefused])
// when the connection is known gone; no answer ([scfws.ErrPushUnavailable],
// or [scfws.ErrPushTimeout] at the deadline) when that cannot be known now.
func (s *Server) Client() *http.Client { return s.client }

// Serve starts the bus (when Options.Redis is set) and serves fns until ctx
// ends, then shuts down within Options.ShutdownTimeout: stops accepting,
// closes every connection with 1001 (going away) and runs its cleanup,
// then leaves the bus (pushes to its connections are refused from then
// on). It returns nil after a clean shutdown; ctx's error when the time
// ran out (clients that did not answer are dropped; a Redis that did not
// answer leaves the instance to lapse as a killed one's does); an error
// when Redis cannot be joined at the start.
func (s *Server) Serve(ctx context.Context, fns scfws.Functions) error {
	if s.opts.Redis != nil {
		var settle, settled func()
		if k, ok := s.keeper.(*redisKeeper); ok {
			s.settling, s.settleStop = make(chan []arrival, 64), make(chan struct{})
			go s.settleLoop(k)
			defer close(s.settleStop) // after the bus is closed
			settle, settled = s.settle, s.settled
		}
		b, err := startBus(ctx, s.opts.Redis, busConfig{settle: settle, settled: settled,
			prefix: s.opts.ChannelPrefix, self: s.instance, log: s.opts.Logger, deliver: s.deliver,
			lease:      orDefault(s.opts.Lease, defaultLease),
			maxBacklog: orDefault(s.opts.MaxBusBacklog, defaultMaxBusBacklog),
			fence: func() {
				s.g.CloseAll(websocket.StatusGoingAway, "server was cut off from its bus: reconnect")
			},
			keepAlive: s.keptAlive,
		})
		if err != nil {
			_ = s.g.Shutdown(ctx)
			return err
		}
		s.bus.Store(b)
		if k, ok := s.keeper.(*redisKeeper); ok {
			k.start()
		}
	}
	if err := s.g.Start(ctx, gateway.Functions(fns)); err != nil {
		if b := s.bus.Swap(nil); b != nil {
			_ = b.close(ctx)
		}
		return err
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), orDefault(s.opts.ShutdownTimeout, defaultShutdownTimeout))
	defer cancel()
	err := s.g.Shutdown(sctx)
	if s.keeper != nil {
		s.keeper.close(sctx)
	}
	if b := s.bus.Swap(nil); b != nil {
		err = errors.Join(err, b.close(sctx))
	}
	return err
}

// Open returns how many connections this instance holds.
func (s *Server) Open() int { return s.g.Open() }

// IDs: an instance is 6 random bytes and a connection 12 more, in standard
// base64: 24 characters, shaped as the gateway's, the first 8 naming the
// instance that holds the connection, so no push needs a lookup.
const instanceLen = 8

func newInstanceID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

func (s *Server) newConnectionID(reliable bool) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	// the character after the instance is reliableMark for a reliable
	// connection, never for another
	if reliable && s.keeper != nil {
		b[0] |= 0xfc
	} else if b[0]>>2 == 0x3f {
		b[0] &^= 0x80
	}
	return s.instance + base64.StdEncoding.EncodeToString(b[:])
}

// instanceOf returns the instance that holds connection id, "" for an ID
// that is not one of the host's.
func instanceOf(id string) string {
	if len(id) != 24 {
		return ""
	}
	return id[:instanceLen]
}

var errNotOnBus = errors.New("host: not on the Redis bus: the host is not serving")

// push delivers m to ids: queued for each connection this instance holds;
// for those other instances hold, one frame per instance on the bus
// (bus.go says what each answer means); refused (not found) for the rest.
func (s *Server) push(ctx context.Context, ids []string, m gateway.Outgoing,
	answer func(id string, status int, body []byte, err error)) {
	var groups map[string][]string
	var reliable []string
	for _, id := range ids {
		if a, held := s.g.Queue(id, m); held {
			answer(id, a.Status, a.Body(), nil)
			continue
		}
		if s.keeper != nil && isReliable(id) {
			reliable = append(reliable, id)
			continue
		}
		inst := instanceOf(id)
		if s.opts.Redis == nil || inst == "" || inst == s.instance {
			answer(id, wire.NotFound.Status, wire.NotFound.Body(), nil)
			continue
		}
		if groups == nil {
			groups = map[string][]string{}
		}
		groups[inst] = append(groups[inst], id)
	}
	if len(reliable) > 0 {
		s.keeper.push(ctx, reliable, m, answer)
	}
	if len(groups) == 0 {
		return
	}
	b := s.bus.Load()
	if b == nil {
		for _, g := range groups {
			for _, id := range g {
				answer(id, 0, nil, errNotOnBus)
			}
		}
		return
	}
	b.send(ctx, groups, kindOf(m), m.Data, func(ids []string, r busResult, err error) {
		for _, id := range ids {
			answerBus(id, r, err, answer)
		}
	})
}

// logWarn logs a warning when there is a logger.
func (s *Server) logWarn(msg string, args ...any) {
	if s.opts.Logger != nil {
		s.opts.Logger.Warn(msg, args...)
	}
}

// reliableHook is the gateway's view of the keeper: nil without the
// reliable mode.
func (s *Server) reliableHook() gateway.Reliable {
	if s.opts.ResumeWindow < 0 {
		return nil
	}
	return hook{s}
}

// hook forwards to s.keeper, which is made after the gateway.
type hook struct{ s *Server }

func (h hook) Window() time.Duration { return h.s.keeper.Window() }
func (h hook) Attach(ctx context.Context, id string) error {
	return h.s.keeper.Attach(ctx, id)
}
func (h hook) Park(ctx context.Context, p *gateway.Parked) error {
	return h.s.keeper.Park(ctx, p)
}
func (h hook) Claim(ctx context.Context, id, tokenHash, origin string) (*gateway.Parked, error) {
	return h.s.keeper.Claim(ctx, id, tokenHash, origin)
}
func (h hook) Ended(id string) { h.s.keeper.Ended(id) }

// keptAlive is what the bus's renewals keep alive besides the lease: the
// conns hashes of the reliable connections held here.
func (s *Server) keptAlive() ([]string, time.Duration) {
	if k, ok := s.keeper.(*redisKeeper); ok {
		return k.heldHomes(), time.Duration(k.keepMs()) * time.Millisecond
	}
	return nil, 0
}

// settle hands, after each read from the bus, what came for reliable
// connections to the settling goroutine (redisKeeper.arrived), in order:
// the reader reads on meanwhile. settled waits until all it was handed
// is settled.
func (s *Server) settle() {
	if len(s.arrivals) == 0 {
		return
	}
	select {
	case s.settling <- s.arrivals:
	case <-s.settleStop:
	}
	s.arrivals = nil
}

func (s *Server) settled() {
	done := make(chan struct{})
	select {
	case s.settling <- []arrival{{held: true, done: done}}:
	case <-s.settleStop:
		return
	}
	select {
	case <-done:
	case <-s.settleStop:
	}
}

// settleLoop settles what settle hands it, until settleStop is closed.
func (s *Server) settleLoop(k *redisKeeper) {
	for {
		var as []arrival
		select {
		case as = <-s.settling:
		case <-s.settleStop:
			return
		}
		if len(as) == 1 && as[0].done != nil {
			close(as[0].done)
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), parkTimeout)
		k.arrived(ctx, as)
		cancel()
	}
}

// deliver delivers a frame that came over the bus to the connections of
// it this instance holds; to one that is gone (its cleanup ran here) it
// is dropped.
func (s *Server) deliver(f frame) {
	kind := f.kind &^ kindReserved
	m := gateway.Outgoing{Closing: kind == kindClosing, Binary: kind == kindBinary, Data: f.data}
	_, onRedis := s.keeper.(*redisKeeper)
	for _, id := range f.ids {
		a, held := s.g.Queue(id, m)
		if onRedis && isReliable(id) {
			s.arrivals = append(s.arrivals, arrival{id: id, held: held, reserved: f.kind&kindReserved != 0, m: m})
			continue
		}
		if a.ErrNo != 0 && s.opts.Logger != nil {
			s.opts.Logger.Info("host: push from another instance not delivered", "secConnectionID", id,
				"errMsg", a.ErrMsg)
		}
	}
}

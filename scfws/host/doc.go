// Package host runs the same register, transmission and cleanup functions
// that served the retired API Gateway, unchanged, as a WebSocket server of
// their own: in an SCF Web function behind a function URL (listening on
// 0.0.0.0:9000, started by scf_bootstrap), or on any server, one instance
// or many, with Redis as the bus between instances.
//
// # Wiring
//
// Only main changes. Where the legacy function started the runtime with
// cloudfunction.StartHandler(app), a host does:
//
//	srv, err := host.New(&host.Options{Redis: rdb}) // nil Redis: one instance
//	push, err := scfws.NewPushClient(srv.PushURL(), &scfws.PushOptions{HTTPClient: srv.Client()})
//	app := newApp(push) // the same *scfws.Router, hub.Hub and route as before
//	err = srv.Serve(ctx, scfws.Functions{Register: app, Transmission: app, Cleanup: app})
//
// scfws.PushClient, hub.Hub and route work as they do with the gateway.
//
// # Connections
//
// A handshake is decided by the register function, through the same
// adapter code as on the gateway (so the same errNo and subprotocol
// rules). The register event carries a requestContext (path, method, the
// X-Scf-Request-Id of a Web function or a fresh request ID, the client's
// address), the client's raw Sec-WebSocket-Protocol and
// Sec-WebSocket-Extensions, and — unlike the gateway's — its headers
// (lower-case names) and query string, for authentication. A refusal is an
// HTTP status, never the function's text: 403 for errNo ≠ 0, 502 for a
// failed function or a bad answer, 504 for one that timed out, 503 when
// Options.MaxConnections are open or while shutting down; 426 or 400,
// without calling anything, for what is not an RFC 6455 handshake. An
// accepted permessage-deflate is applied.
//
// Each data frame is one transmission call; a connection's frames are
// handled one at a time, in order. Cleanup runs exactly once for every
// connection that registered, whoever closed it: the client, a closing
// push, a limit, the heartbeat, the lifetime, a failed transmission,
// shutdown. (On the gateway cleanup was documented only for closes the
// client started.) Only a process that dies without shutting down (OOM,
// kill -9) skips it: its connections expire in your store, and pushes to
// them are refused once its lease is known lapsed (below), so a hub
// prunes them.
//
// Close codes (a Web function logs any close but 1000, 1010 and 1011 as a
// failed invocation):
//
//	1000  a closing push; Options.MaxLifetime ("connection lifetime reached: reconnect"); Options.IdleTimeout
//	1001  shutdown ("server shutting down: reconnect"); an instance back on Redis after it was taken for gone ("server was cut off from its bus: reconnect")
//	1002  a reliable client's malformed frame (no seq, out of order, an unknown control message)
//	1007  a text message that is not UTF-8 (RFC 6455 §8.1)
//	1008  a client over Options.MaxMessagesPerSecond or MaxBytesPerSecond, or whose send queue is full
//	1009  a client message over Options.MaxMessageSize
//	1011  a transmission function that failed (error, panic, timeout)
//	none  a client that did not answer a heartbeat ping
//	4000  a resume refused for good: its window is over, its buffer went past its bound, or it is unknown
//	4001  a resume refused: not the connection's current token, or Options.ResumeCheck said no
//	4002  a resume to retry: the connection is still attached, or messages for it are on their way
//
// # Staying connected across cuts
//
// A client that offers the subprotocol "scfws.reliable.v1" (package
// scfws/client, in Go or in a browser) gets a logical connection that
// outlives its sockets: after the lifetime close, a shutdown or a network
// cut it resumes the same connection ID, on any instance, within
// Options.ResumeWindow, receives every push sent to it meanwhile once and
// in order, and has what it sent handled once. The functions see one
// register and one cleanup: a cut connection is kept (detached) instead
// of cleaned up, a resume runs no register function
// (Options.ResumeCheck may vet it), and the cleanup runs when the client
// ends it, when the server does (a closing push, a limit: the client is
// told not to resume), or when the window ends without a resume. Pushes to
// a detached connection are kept for it, within Options.MaxResumeMessages,
// MaxResumeBytes and MaxParkedBytes, and answered success. The register
// function chooses among the client's other subprotocols, as usual. See
// docs/reliable.md for the wire, the routing and the tests.
//
// # Pushing
//
// A push is delivered at most once, in order per sender. To a connection
// this instance holds it is queued in-process (no socket, no HTTP). To one
// another instance holds — the connection ID names its instance, so no
// lookup is needed — it crosses Redis (Options.Redis) as a frame: the
// message's raw bytes once, with every connection of that instance it goes
// to, appended to that instance's stream, which the instance reads. A
// Broadcast, and so every hub fan-out, is one script call on one Redis
// server (one per instance on a Cluster), whatever the number of
// connections. What a push across instances is answered:
//
//   - success: the frame is in the stream of the instance that holds the
//     connection, which was alive (its lease, renewed every Options.Lease/5,
//     was live) and had less than Options.MaxBusBacklog unread. It is
//     delivered once, in order, even if that instance is off Redis for a
//     while (it reads on from where it was), unless it dies first or Redis
//     loses the stream (a restart without persistence, a failover). A
//     connection that closed meanwhile drops it: its cleanup has run.
//   - [scfws.ErrPushRefused]: the connection closed on this instance, or its
//     instance is gone — it shut down, or its lease lapsed and stayed
//     missing for another Lease (so a kill -9'd instance's connections are
//     refused between one and two leases after its last renewal: 5–10 s by
//     default). An instance that comes back after having been taken for
//     gone closes all its connections (1001) before it serves on, so a
//     refused connection is never one still open.
//   - [scfws.ErrPushUnavailable]: not sent — Redis failed, the instance is
//     not renewing its lease but not yet known gone (cut off from Redis,
//     or Redis restarted and lost its keys), or its unread bytes are over
//     Options.MaxBusBacklog (flow control: a burst never makes Redis drop
//     what was answered success). Nothing to prune; retry if you like.
//
// A Redis client that resends a command whose reply it lost (go-redis does
// by default) appends the frame twice; the reading instance drops the copy
// (each frame names its sender and its number), so the delivery stays at
// most once whatever the client's options.
//
// # What Tencent leaves unknown
//
// Whether ping frames reset a Web function's idle timer, what close code a
// client sees when the platform ends a connection (455 idle, 433 timeout),
// and the client's address behind a function URL are not documented: the
// host pings (Options.Heartbeat) and closes before the function timeout
// (Options.MaxLifetime) with 1000, and reports the address it sees.
package host

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
//	err = srv.Serve(ctx, host.Functions{Register: app, Transmission: app, Cleanup: app})
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
// them are refused (below), so a hub prunes them.
//
// Close codes (a Web function logs any close but 1000, 1010 and 1011 as a
// failed invocation):
//
//	1000  a closing push; Options.MaxLifetime ("connection lifetime reached: reconnect"); Options.IdleTimeout
//	1001  shutdown ("server shutting down: reconnect")
//	1007  a text message that is not UTF-8 (RFC 6455 §8.1)
//	1008  a client over Options.MaxMessagesPerSecond or MaxBytesPerSecond, or whose send queue is full
//	1009  a client message over Options.MaxMessageSize
//	1011  a transmission function that failed (error, panic, timeout)
//	none  a client that did not answer a heartbeat ping
//
// # Pushing
//
// A push is delivered at most once, in order per sender. To a connection
// this instance holds it is queued in-process (no socket, no HTTP); to one
// another instance holds — the connection ID names its instance, so no
// lookup is needed — it is published on that instance's Redis channel. A
// push is refused (404, [scfws.ErrPushRefused]) when the connection is not
// here and no instance received it: closed here, or its instance is gone.
// A push that reached a live instance whose connection has just closed is
// answered as success and dropped there: that connection's cleanup has run
// on its instance. A Redis error is no answer ([scfws.ErrPushUnavailable]).
//
// # What Tencent leaves unknown
//
// Whether ping frames reset a Web function's idle timer, what close code a
// client sees when the platform ends a connection (455 idle, 433 timeout),
// and the client's address behind a function URL are not documented: the
// host pings (Options.Heartbeat) and closes before the function timeout
// (Options.MaxLifetime) with 1000, and reports the address it sees.
package host

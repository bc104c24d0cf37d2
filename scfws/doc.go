// Package scfws is an SDK for the three functions of a WebSocket app on
// Tencent Cloud — the register function (a client connects: accept or
// refuse it, negotiate the subprotocol), the transmission function (a
// client sent a message) and the cleanup function (a client left) — and
// for pushing data to a connection or closing it. The same functions run
// unchanged on every host: package host serves them as their own WebSocket
// server, in an SCF Web function behind a function URL (the production
// path, now that API Gateway is retired) or on any server, with Redis
// between instances; the legacy API Gateway WebSocket API invokes them as
// three event functions and takes pushes at its reverse-push address; and
// package emulator runs that legacy gateway locally. [Functions] are the
// three, as the hosts take them.
//
// # Functions
//
// Write plain business funcs ([RegisterFunc], [TransmissionFunc],
// [CleanupFunc]) and wrap them in an adapter: [NewRegisterHandler],
// [NewTransmissionHandler], [NewCleanupHandler], or one [Router] for a single
// binary deployed as all three. Each has the method
// Invoke(ctx, payload) ([]byte, error) of scf-go-lib's cloudfunction.Handler,
// so a function's main is
//
//	cloudfunction.StartHandler(&scfws.Router{Register: reg, Transmission: msg})
//
// The adapters and the Router share one decoder and one answer builder. They
// decode leniently (unknown fields are ignored, "serviceName" is accepted for
// "serviceId", "data recv" for "data send") and encode strictly: the register
// answer always has errNo and errMsg, names at most one subprotocol the client
// offered (negotiated per RFC 6455 from [RegisterOptions]), and omits what was
// not chosen. scf-go-lib's function context (request ID, deadline,
// environment) stays in ctx.
//
// # Pushing
//
// A [PushClient] POSTs the documented push bodies to the reverse-push
// address (or hands them to package host in the same process):
// [PushClient.Send] a [Message] ([Text], [Binary], [JSON], or
// [TransmissionEvent.Message] to forward one), [PushClient.Broadcast] it to
// many connections at bounded concurrency, or [PushClient.Disconnect] a
// client. On the legacy gateway make one with [NewPushClientFromEnv] in
// main: it reads SCFWS_PUSH_URL (or wsBackUrl) at the first push; on a host,
// with [NewPushClient] and the host's PushURL and Client. A push is delivered at most
// once; success is HTTP 200 with errNo 0, anything else is a [*PushError]
// wrapping [ErrPushRefused] (the gateway has dropped that client),
// [ErrPushTooLarge] (the host kept the client; the message is the caller's error),
// [ErrPushUnavailable] or [ErrPushTimeout].
//
// Connection state (stores, rooms, users) and fan-out with pruning are in
// package hub.
//
// # Errors
//
// Every bad input has a documented answer and nothing panics:
//
//   - register: a refusal with a non-zero errNo, defined once as a
//     [*RejectError]: [ErrMissingRequestContext] (101),
//     [ErrMissingWebSocket] (102), [ErrMalformedEvent], [ErrWrongAction],
//     [ErrMissingConnectionID], [ErrUnsupportedSubprotocol]. [Reject] from
//     your func answers exactly its errNo and errMsg; any other error or a
//     panic answers [ErrInternal] and never leaks the error text.
//   - transmission and cleanup: the invocation error (the gateway then drops
//     that client), wrapping the same refusals for a bad event, or your
//     error, or a [*PanicError].
//
// # Testing
//
// Package scfwstest builds events, invokes handlers and runs a fake
// reverse-push gateway on a real HTTP server; package emulator runs the whole
// API locally.
//
// # Protocol facts
//
// The gateway holds the socket; a function talks back only by POSTing to the
// reverse-push address, which is configuration, never code. The cleanup
// function is best effort: store connections with an expiry. What the gateway
// answers to a push to a closed connection, and whether it implements
// permessage-deflate, is not documented.
package scfws

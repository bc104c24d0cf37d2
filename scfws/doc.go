// Package scfws is an SDK for the three Tencent Cloud functions (SCF) behind
// an API Gateway WebSocket API: the register function (a client connects),
// the transmission function (a client sent a message) and the cleanup
// function (a client left), and for pushing data to a connection or closing
// it through the gateway's reverse-push address.
//
// # Functions
//
// Write plain business funcs ([RegisterFunc], [TransmissionFunc],
// [CleanupFunc]) and wrap them in an adapter: [NewRegisterHandler],
// [NewTransmissionHandler], [NewCleanupHandler], or one [Router] for a single
// binary deployed as all three. Each adapter has the method
// Invoke(ctx, payload) ([]byte, error) of scf-go-lib's cloudfunction.Handler,
// so a function's main is
//
//	cloudfunction.StartHandler(&scfws.Router{Register: reg, Transmission: msg})
//
// The adapters decode leniently (unknown fields are ignored, "serviceName" is
// accepted for "serviceId", "data recv" for "data send") and encode strictly:
// the register answer always has errNo and errMsg, names at most one
// subprotocol the client offered, and omits what was not chosen. The
// scf-go-lib function context (request ID, deadline) stays in ctx.
//
// Negotiation follows RFC 6455 and RFC 7692: see [RegisterOptions],
// [ParseSubprotocols], [SelectSubprotocol], [ParseExtensions] and
// [NegotiateExtensions].
//
// # Pushing
//
// A [PushClient] POSTs to the reverse-push address: [PushClient.Send],
// [PushClient.SendBinary], [PushClient.SendJSON], [PushClient.SendMessage],
// [PushClient.Disconnect], and [PushClient.Broadcast] /
// [PushClient.BroadcastMessage] for many connections at bounded concurrency.
// Make one with [NewPushClientFromEnv] at start-up and reuse it. Success is a
// 2xx answer whose JSON errNo is 0; anything else is a [*PushError] wrapping
// [ErrPushRefused], [ErrPushUnavailable], [ErrPushTimeout] or
// [ErrPushBadAnswer]. Transient failures are retried with jittered backoff,
// never past the ctx deadline.
//
// # Errors
//
// Every bad input has a documented answer and nothing panics:
//
//   - register: a refusal with a non-zero errNo ([ErrNoMissingRequestContext],
//     [ErrNoMissingWebSocket], [ErrNoMalformedEvent], [ErrNoWrongAction],
//     [ErrNoMissingConnectionID], [ErrNoUnsupportedSubprotocol]); [Reject]
//     from your func answers exactly its errNo and errMsg; any other error
//     or a panic answers [ErrNoInternal] "internal error" and never leaks the
//     error text.
//   - transmission and cleanup: an invocation error (the gateway then drops
//     that client). Panics are recovered as a [*PanicError].
//
// Decoding errors wrap the sentinels [ErrMalformedEvent],
// [ErrMissingRequestContext], [ErrMissingWebSocket], [ErrWrongAction] and
// [ErrMissingConnectionID]; test them with [errors.Is].
//
// # Testing
//
// Package scfwstest builds events, invokes handlers and runs a fake
// reverse-push gateway on a real HTTP server; see its documentation.
//
// # Protocol facts
//
// The gateway holds the socket; a function talks back only by POSTing to the
// reverse-push address, which is configuration (SCFWS_PUSH_URL, or wsBackUrl
// as Tencent's Serverless component injects it), never code. The cleanup
// function is best effort: store connections with an expiry. What the gateway
// answers to a push to a closed connection, and whether it implements
// permessage-deflate, is not documented.
package scfws

// Package emulator is a local stand-in for the Tencent Cloud API gateway of a
// WebSocket API: a real WebSocket server that invokes your register,
// transmission and cleanup functions the way the gateway does, and serves
// the reverse-push endpoint on the same listener, so that the production
// scfws.PushClient works against it unchanged.
//
// # Starting
//
// [NewServer] returns a running server, like httptest.NewServer;
// [NewUnstartedServer] one that listens but waits for [Server.Start], for
// functions that need its URLs before they exist. [Server.Shutdown] stops it.
//
// # Functions
//
// Functions run in-process (any scf-go-lib cloudfunction.Handler, such as
// the scfws adapters or a *scfws.Router) or as SCF Go binaries over the
// runtime protocol ([Binary]): each binary is started with
// _LAMBDA_SERVER_PORT set, as SCF would (and SCFWS_PUSH_URL too only with
// Options.EnvAtStart), so any SCF Go function — not only one built with
// scfws — runs locally. Every invocation
// carries a fresh request ID, a deadline (Options.InvokeTimeout), the
// function's name and its environment (SCFWS_PUSH_URL and wsBackUrl) in
// scf-go-lib's functioncontext.
//
// # Connections
//
// On a handshake the emulator builds the register event (a full
// requestContext, a 24-character base64 secConnectionID, the client's raw
// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions only when it sent them)
// and invokes the register function before accepting. It refuses the
// upgrade with:
//
//   - 403 Forbidden when the function answered errNo ≠ 0;
//   - 502 Bad Gateway when the invocation failed, or the answer is not a
//     register response, or names a subprotocol the client did not offer (or
//     a list);
//   - 504 Gateway Timeout when the function did not answer in time;
//   - 503 Service Unavailable when Options.MaxConnections are open or being
//     registered (a place is taken before the register function runs, so
//     the limit holds however many handshakes arrive at once);
//   - without invoking anything, for what is not a valid RFC 6455 opening
//     handshake: 426 Upgrade Required when it is no upgrade to WebSocket or
//     asks for a version other than 13, 400 Bad Request for another method,
//     HTTP/1.0, or a Sec-WebSocket-Key that is not 16 bytes in base64.
//
// The client gets the status and its standard text only; what the function
// said (its error, its answer) goes to the log. What status the real
// gateway uses is not documented; these are the emulator's choice. Origins
// are not checked.
//
// The emulator is one configuration of the gateway core that package host
// is the other of: the same handshake, connection and push code.
//
// Each client message becomes a transmission event (text as it is, binary in
// base64), invoked one at a time per connection, in order. A failed
// invocation closes that client at once without a close frame, as the real
// gateway does. A message over Options.MaxMessageSize closes the client with
// 1009, a text message that is not UTF-8 with 1007 (RFC 6455 §8.1). A client idle for Options.IdleTimeout (the API's backend timeout) is
// closed with 1001.
//
// # Strict by default
//
// Where Tencent's documents leave room, the emulator takes the strictest
// reading, so that what works locally works in the cloud; each is an option
// (and a flag of scfws local):
//
//   - cleanup is invoked at most once per accepted connection, and only for
//     closes the client starts (its close frame, or its end of the TCP
//     connection): not for a closing push, the idle timeout, a failed
//     invocation or push, or shutdown — delete those connections from your
//     store yourself, as Tencent's document says (Options.CleanupOnServerClose);
//   - function binaries get SCFWS_PUSH_URL and wsBackUrl only with each
//     invocation, not in their process environment (Options.EnvAtStart);
//   - a push answered with anything but success drops its client without a
//     close frame (Options.KeepClientOnFailedPush);
//   - an extension the register function accepts is passed through in the
//     handshake answer, not applied (Options.ApplyExtensions).
//
// # Reverse push
//
// POST the documented bodies to [Server.PushURL]. Answers:
//
//	200 {"errNo":0,"errMsg":"ok"}                    queued for the client, in order (a closing after what was queued)
//	404 {"errNo":1001,"errMsg":"connection not found"} no open connection with that ID
//	400 {"errNo":1002,"errMsg":"malformed push"}        not a push body
//	400 {"errNo":1004,"errMsg":"invalid binary data"}   binary data not standard base64
//	413 {"errNo":1005,"errMsg":"push too large"}        data over MaxMessageSize
//	502 {"errNo":1006,"errMsg":"delivery failed: …"}    4 × MaxMessageSize of messages wait for the client: it reads too slowly, and is closed (1008)
//
// What the real gateway answers for an unknown connection is not
// documented: 404 with errNo 1001 is the emulator's choice.
//
// The listener's server reads request headers within 10 s and a push's body
// within 5 s, keeps idle keep-alive connections 2 minutes, and takes headers
// up to 64 KB.
//
// # Shutting down
//
// [Server.Shutdown] stops accepting, closes every client with 1001 (no
// cleanup, unless Options.CleanupOnServerClose), then stops the function
// binaries.
package emulator

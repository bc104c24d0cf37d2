// Package scfwstest helps test scfws functions without a cloud, the way
// net/http/httptest helps test HTTP handlers. Nothing in it needs a
// testing.T, so it serves in Example functions too.
//
// # Events
//
// [NewRegisterEvent], [NewTransmissionEvent], [NewBinaryTransmissionEvent]
// and [NewCleanupEvent] build events as the gateway sends them, returning the
// typed value and the raw JSON to pass to an adapter's Invoke.
// [InvokeRegister] invokes a handler and decodes the register answer.
//
// # Gateway
//
// [NewGateway] starts a fake reverse-push endpoint on a real HTTP server:
// give its URL to scfws.NewPushClient, tell it per connection or globally how
// to answer ([Rule]: status, errNo, delay, dropped connection), then read
// back what was pushed ([Gateway.Pushes]) and how many requests were in
// flight at most ([Gateway.MaxInFlight]).
package scfwstest

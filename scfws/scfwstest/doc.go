// Package scfwstest helps test scfws functions without a cloud, the way
// net/http/httptest helps test HTTP handlers. Nothing in it needs a
// testing.T, so it serves in Example functions too.
//
// # Events
//
// [NewRegisterEvent], [NewTransmissionEvent] (and
// [NewJSONTransmissionEvent], for a route of package route) and
// [NewCleanupEvent] build events as the gateway sends them; change their fields as a test needs, and
// json.Marshal one for the raw payload. [Invoke] invokes a handler with an
// event and decodes the answer. [NewConnectionID] makes IDs shaped like the
// gateway's.
//
// # Gateway
//
// [NewGateway] starts a fake reverse-push endpoint on a real HTTP server:
// give its URL to scfws.NewPushClient, tell it per connection or by default
// how to answer ([Rule]: status, errNo, body, redirect, delay, dropped
// connection), then read back what was pushed ([Gateway.Pushes], each
// decoded into a Push) and how many requests were in flight at
// most ([Gateway.MaxInFlight]).
package scfwstest

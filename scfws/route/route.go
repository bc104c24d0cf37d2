// Package route routes the JSON messages a transmission function receives
// to one handler per action, as AWS API Gateway's routeSelectionExpression
// does: {"action":"sendmessage",…} goes to the handler of "sendmessage".
//
// # Routing
//
// [New] makes a [Mux] on a scfws.PushClient; [Handle] adds a typed handler
// per action (the whole message decoded into the handler's type); the Mux's
// [Mux.Transmission] is the scfws.TransmissionFunc to give an adapter or a
// Router. The key that names the action is "action" unless
// [Options].Key says otherwise; binary messages go to [Options].Binary.
//
// # Errors
//
// A message no route takes — not a JSON object, no action, an unknown one,
// a binary message without Options.Binary, a message that does not decode
// into its handler's type — is answered by a push to the sender, a JSON
// object such as {"action":"error","error":"unknown action \"dance\""} (the
// first key is Options.Key), and the invocation succeeds: the connection
// survives. An error a handler returns fails the invocation, as any
// transmission error does (the gateway then drops the client): answer
// mistakes with a push and return nil.
//
// # Testing
//
// Invoke a route as any transmission function: give Mux.Transmission to
// scfws.NewTransmissionHandler, and the handler to scfwstest.Invoke with
// scfwstest.NewJSONTransmissionEvent(id, msg); read the error answers from a
// scfwstest.Gateway.
package route

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/scfws/scfws-go/scfws"
)

// Options configures a [Mux]. A nil *Options means the zero value.
type Options struct {
	// Key is the message's key that names its action. "": "action".
	Key string
	// Binary handles binary messages. Nil: they are answered as a message
	// no route takes.
	Binary scfws.TransmissionFunc
}

// Mux routes messages by action. Add routes with [Handle] before it serves;
// then it is safe for concurrent use.
type Mux struct {
	push   *scfws.PushClient
	key    string
	binary scfws.TransmissionFunc
	mu     sync.RWMutex
	routes map[string]func(ctx context.Context, ev *scfws.TransmissionEvent, raw []byte) error
}

// New returns a Mux that answers the messages no route takes through push.
// opts may be nil.
func New(push *scfws.PushClient, opts *Options) *Mux {
	m := &Mux{push: push, key: "action", routes: map[string]func(context.Context, *scfws.TransmissionEvent, []byte) error{}}
	if opts != nil {
		if opts.Key != "" {
			m.key = opts.Key
		}
		m.binary = opts.Binary
	}
	return m
}

// Handle routes the messages whose key is action to fn, with the whole
// message decoded into a T (a struct with the fields the action carries,
// typically). A second Handle of one action replaces the first.
func Handle[T any](m *Mux, action string, fn func(ctx context.Context, ev *scfws.TransmissionEvent, msg T) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.routes[action] = func(ctx context.Context, ev *scfws.TransmissionEvent, raw []byte) error {
		var msg T
		if err := json.Unmarshal(raw, &msg); err != nil {
			return m.reject(ctx, ev, fmt.Sprintf("%s %q: the message does not fit it: %v", m.key, action, err))
		}
		return fn(ctx, ev, msg)
	}
}

// Transmission is the scfws.TransmissionFunc that routes ev.
func (m *Mux) Transmission(ctx context.Context, ev *scfws.TransmissionEvent) error {
	if ev.WebSocket.DataType == scfws.DataBinary {
		if m.binary == nil {
			return m.reject(ctx, ev, "binary messages are not accepted")
		}
		return m.binary(ctx, ev)
	}
	raw := []byte(ev.WebSocket.Data)
	var head map[string]json.RawMessage
	if err := json.Unmarshal(raw, &head); err != nil || head == nil {
		return m.reject(ctx, ev, fmt.Sprintf("a message is a JSON object with a %q", m.key))
	}
	for k := range head {
		if k != m.key && strings.EqualFold(k, m.key) {
			// the typed message would take its action from either: refuse to guess
			return m.reject(ctx, ev, fmt.Sprintf("a message names its %q once, in that case (it has %q too)", m.key, k))
		}
	}
	var action string
	if err := json.Unmarshal(head[m.key], &action); err != nil || action == "" {
		return m.reject(ctx, ev, fmt.Sprintf("a message names its %q", m.key))
	}
	m.mu.RLock()
	route, ok := m.routes[action]
	m.mu.RUnlock()
	if !ok {
		return m.reject(ctx, ev, fmt.Sprintf("unknown %s %q", m.key, action))
	}
	return route(ctx, ev, raw)
}

// reject answers the sender with what is wrong; the connection survives.
// The answer is best effort: a sender that is gone cannot be told.
func (m *Mux) reject(ctx context.Context, ev *scfws.TransmissionEvent, why string) error {
	answer, err := scfws.JSON(map[string]string{m.key: "error", "error": why})
	if err != nil {
		return err
	}
	_ = m.push.Send(ctx, ev.ConnectionID(), answer)
	return nil
}

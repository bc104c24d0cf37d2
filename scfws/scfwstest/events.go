package scfwstest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/scfws/scfws-go/scfws"
)

// NewConnectionID returns a connection ID shaped like the gateway's: 16
// random bytes in standard base64 (24 characters; '+', '/' and '=' occur).
func NewConnectionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// RegisterOption changes the register event a builder makes.
type RegisterOption func(*scfws.RegisterEvent)

// WithSubprotocols sets the client's raw Sec-WebSocket-Protocol header.
func WithSubprotocols(header string) RegisterOption {
	return func(e *scfws.RegisterEvent) { e.WebSocket.SecWebSocketProtocol = header }
}

// WithExtensions sets the client's raw Sec-WebSocket-Extensions header.
func WithExtensions(header string) RegisterOption {
	return func(e *scfws.RegisterEvent) { e.WebSocket.SecWebSocketExtensions = header }
}

// WithRequestContext replaces the default requestContext.
func WithRequestContext(rc scfws.RequestContext) RegisterOption {
	return func(e *scfws.RegisterEvent) { e.RequestContext = &rc }
}

// WithoutRequestContext drops requestContext, as the console's test template does.
func WithoutRequestContext() RegisterOption {
	return func(e *scfws.RegisterEvent) { e.RequestContext = nil }
}

// WithSourceIP sets requestContext.sourceIp.
func WithSourceIP(ip string) RegisterOption {
	return func(e *scfws.RegisterEvent) {
		if e.RequestContext != nil {
			e.RequestContext.SourceIP = ip
		}
	}
}

// WithQueryString sets the (undocumented) queryString of the event.
func WithQueryString(q map[string]string) RegisterOption {
	return func(e *scfws.RegisterEvent) { e.QueryString = q }
}

// NewRegisterEvent returns a register event for connectionID, with the
// requestContext of DESIGN §1 (service "service-scfwstest", path
// "/websocket", stage "release", request ID "scfwstest-request") changed by
// opts, as a typed value and as the raw JSON the gateway would send.
func NewRegisterEvent(connectionID string, opts ...RegisterOption) (*scfws.RegisterEvent, []byte) {
	ev := &scfws.RegisterEvent{
		RequestContext: &scfws.RequestContext{
			ServiceID: "service-scfwstest", Path: "/websocket", HTTPMethod: "GET",
			RequestID: "scfwstest-request", Identity: &scfws.Identity{},
			SourceIP: "127.0.0.1", Stage: "release", WebSocketEnable: true,
		},
		WebSocket: scfws.RegisterWebSocket{Action: scfws.ActionConnecting, SecConnectionID: connectionID},
	}
	for _, o := range opts {
		o(ev)
	}
	return ev, mustJSON(ev)
}

// NewTransmissionEvent returns a text message event ("data send").
func NewTransmissionEvent(connectionID, text string) (*scfws.TransmissionEvent, []byte) {
	return newTransmission(connectionID, scfws.TextMessage(text))
}

// NewBinaryTransmissionEvent returns a binary message event (data in base64).
func NewBinaryTransmissionEvent(connectionID string, data []byte) (*scfws.TransmissionEvent, []byte) {
	return newTransmission(connectionID, scfws.BinaryMessage(data))
}

func newTransmission(id string, m scfws.Message) (*scfws.TransmissionEvent, []byte) {
	ev := &scfws.TransmissionEvent{WebSocket: scfws.TransmissionWebSocket{
		Action: scfws.ActionDataSend, SecConnectionID: id, DataType: m.DataType, Data: m.Data}}
	return ev, mustJSON(ev)
}

// NewCleanupEvent returns a cleanup event ("closing").
func NewCleanupEvent(connectionID string) (*scfws.CleanupEvent, []byte) {
	ev := &scfws.CleanupEvent{WebSocket: scfws.CleanupWebSocket{Action: scfws.ActionClosing, SecConnectionID: connectionID}}
	return ev, mustJSON(ev)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("scfwstest: " + err.Error())
	}
	return b
}

// Invoker is what the adapters, the Router and scf-go-lib's
// cloudfunction.Handler have in common.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// InvokeRegister invokes h with a register event and decodes its answer.
// An invocation error is returned as it is; an answer that is not a
// register response is an error.
func InvokeRegister(ctx context.Context, h Invoker, payload []byte) (*scfws.RegisterResponse, error) {
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var resp scfws.RegisterResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		return nil, fmt.Errorf("scfwstest: register answer %q is not a register response: %w", out, err)
	}
	return &resp, nil
}

package scfwstest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/tencentyun/scf-go-lib/cloudfunction"

	"github.com/scfws/scfws-go/scfws"
)

// NewConnectionID returns a connection ID shaped like the gateway's: 16
// random bytes in standard base64 (24 characters; '+', '/' and '=' occur).
func NewConnectionID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// NewRegisterEvent returns the register event the gateway sends when a
// client without subprotocols or extensions connects: requestContext with
// service "service-scfwstest", path "/websocket", method GET, request ID
// "scfwstest-request", identity {}, source IP 127.0.0.1, stage "release".
// Change its fields to make the event you need; json.Marshal of it is the
// payload.
func NewRegisterEvent(connectionID string) *scfws.RegisterEvent {
	return &scfws.RegisterEvent{
		RequestContext: &scfws.RequestContext{
			ServiceID: "service-scfwstest", Path: "/websocket", HTTPMethod: "GET",
			RequestID: "scfwstest-request", Identity: json.RawMessage("{}"),
			SourceIP: "127.0.0.1", Stage: "release", WebSocketEnable: true,
		},
		WebSocket: scfws.RegisterWebSocket{Action: scfws.ActionConnecting, SecConnectionID: connectionID},
	}
}

// NewTransmissionEvent returns the transmission event ("data send") of a
// client that sent m: text as it is, binary in base64.
func NewTransmissionEvent(connectionID string, m scfws.Message) *scfws.TransmissionEvent {
	return &scfws.TransmissionEvent{WebSocket: scfws.TransmissionWebSocket{
		Action: scfws.ActionDataSend, SecConnectionID: connectionID, DataType: m.DataType, Data: m.Data}}
}

// NewJSONTransmissionEvent returns the transmission event of a client that
// sent v as a JSON text message — what a route of package route receives.
// Like httptest.NewRequest, it panics when v cannot be marshalled: a test's
// own mistake.
func NewJSONTransmissionEvent(connectionID string, v any) *scfws.TransmissionEvent {
	m, err := scfws.JSON(v)
	if err != nil {
		panic("scfwstest: " + err.Error())
	}
	return NewTransmissionEvent(connectionID, m)
}

// NewCleanupEvent returns the cleanup event ("closing") of a connection.
func NewCleanupEvent(connectionID string) *scfws.CleanupEvent {
	return &scfws.CleanupEvent{WebSocket: scfws.CleanupWebSocket{Action: scfws.ActionClosing, SecConnectionID: connectionID}}
}

// Invoke marshals ev (any event, or raw JSON as a []byte or
// json.RawMessage), invokes h with it as the runtime would, and decodes the
// answer: the register answer, or the transmission and cleanup adapters'
// {"errNo":0,"errMsg":"ok"}. An invocation error is returned as it is; an
// answer that is not a JSON {errNo, errMsg} object is an error.
func Invoke(ctx context.Context, h cloudfunction.Handler, ev any) (*scfws.Response, error) {
	var payload []byte
	switch v := ev.(type) {
	case []byte:
		payload = v
	case json.RawMessage:
		payload = v
	default:
		var err error
		if payload, err = json.Marshal(ev); err != nil {
			return nil, fmt.Errorf("scfwstest: marshal event: %w", err)
		}
	}
	out, err := h.Invoke(ctx, payload)
	if err != nil {
		return nil, err
	}
	var resp struct {
		ErrNo  *int    `json:"errNo"`
		ErrMsg *string `json:"errMsg"`
		scfws.Response
	}
	if err := json.Unmarshal(out, &resp); err != nil || resp.ErrNo == nil || resp.ErrMsg == nil {
		return nil, fmt.Errorf("scfwstest: answer %q is not an {errNo, errMsg} object", out)
	}
	resp.Response.ErrNo, resp.Response.ErrMsg = *resp.ErrNo, *resp.ErrMsg
	return &resp.Response, nil
}

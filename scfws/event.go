package scfws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Action is the websocket.action of an event or a push body.
type Action string

// The actions of the gateway's event-function protocol.
const (
	// ActionConnecting is the register event and its answer.
	ActionConnecting Action = "connecting"
	// ActionDataSend is a client message (transmission event) and a push of data to a client.
	ActionDataSend Action = "data send"
	// ActionDataRecv is the old name of ActionDataSend, still found in console
	// templates. It is accepted on input and never sent.
	ActionDataRecv Action = "data recv"
	// ActionClosing is the cleanup event and a push that closes a client.
	ActionClosing Action = "closing"
)

// DataType is the websocket.dataType of a message.
type DataType string

// The data types of a message.
const (
	// DataText is a text frame; data is the text itself.
	DataText DataType = "text"
	// DataBinary is a binary frame; data is its standard base64 encoding.
	DataBinary DataType = "binary"
)

// RequestContext is the requestContext of a register event. Tencent only ever
// adds fields to it, so unknown fields are ignored when decoding.
type RequestContext struct {
	// ServiceID is the API gateway service (serviceId).
	ServiceID string `json:"serviceId,omitempty"`
	// ServiceName is the key older samples use instead of serviceId.
	ServiceName string `json:"serviceName,omitempty"`
	// Path is the API path, e.g. "/websocket".
	Path string `json:"path,omitempty"`
	// HTTPMethod is the handshake's method, "GET".
	HTTPMethod string `json:"httpMethod,omitempty"`
	// RequestID identifies the handshake request at the gateway.
	RequestID string `json:"requestId,omitempty"`
	// Identity is the caller's identity; nil when absent, empty when "{}".
	Identity *Identity `json:"identity,omitempty"`
	// SourceIP is the client's address as the gateway saw it.
	SourceIP string `json:"sourceIp,omitempty"`
	// Stage is the environment the API is published in, e.g. "release".
	Stage string `json:"stage,omitempty"`
	// WebSocketEnable is true for a WebSocket API.
	WebSocketEnable bool `json:"websocketEnable,omitempty"`
}

// Service returns ServiceID, or ServiceName when only the legacy key was sent.
func (rc *RequestContext) Service() string {
	if rc == nil {
		return ""
	}
	if rc.ServiceID != "" {
		return rc.ServiceID
	}
	return rc.ServiceName
}

// Identity is requestContext.identity.
type Identity struct {
	// SecretID is the caller's SecretId when the API uses key authentication.
	SecretID string `json:"secretId,omitempty"`
}

// Params is a string map decoded leniently: a string value is kept, an array
// is joined with ",", a number or boolean keeps its JSON text, null is
// dropped, and an object is kept as its JSON text. It is used for the headers
// and query parameters that the register event may carry; none of them is
// documented, so never rely on them.
type Params map[string]string

// UnmarshalJSON implements [json.Unmarshaler] with the lenient rules of [Params].
func (p *Params) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw == nil {
		*p = nil
		return nil
	}
	out := make(Params, len(raw))
	for k, v := range raw {
		if s, ok := lenientString(v); ok {
			out[k] = s
		}
	}
	*p = out
	return nil
}

func lenientString(v json.RawMessage) (string, bool) {
	if len(v) == 0 || string(v) == "null" {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			return s, true
		}
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(v, &items); err == nil {
			out := ""
			for i, it := range items {
				s, _ := lenientString(it)
				if i > 0 {
					out += ","
				}
				out += s
			}
			return out, true
		}
	}
	return string(v), true
}

// RegisterWebSocket is the websocket object of a register event.
type RegisterWebSocket struct {
	// Action is "connecting".
	Action Action `json:"action"`
	// SecConnectionID identifies the connection: opaque, standard base64.
	SecConnectionID string `json:"secConnectionID"`
	// SecWebSocketProtocol is the client's raw Sec-WebSocket-Protocol list;
	// empty when the client sent none. See [RegisterEvent.Subprotocols].
	SecWebSocketProtocol string `json:"secWebSocketProtocol,omitempty"`
	// SecWebSocketExtensions is the client's raw Sec-WebSocket-Extensions
	// list; empty when the client sent none. See [RegisterEvent.Extensions].
	SecWebSocketExtensions string `json:"secWebSocketExtensions,omitempty"`
}

// RegisterEvent is what the register function receives when a client opens a
// WebSocket (action "connecting").
type RegisterEvent struct {
	// RequestContext is nil when the event has none (the adapter refuses
	// such an event with [ErrNoMissingRequestContext] before calling you).
	RequestContext *RequestContext `json:"requestContext,omitempty"`
	// WebSocket is the event's websocket object.
	WebSocket RegisterWebSocket `json:"websocket"`

	// Headers, HeaderParameters, QueryString, QueryStringParameters and
	// PathParameters are request data the gateway does not document for
	// this event: decoded when present, nil otherwise; never rely on them.
	Headers               Params `json:"headers,omitempty"`
	HeaderParameters      Params `json:"headerParameters,omitempty"`
	QueryString           Params `json:"queryString,omitempty"`
	QueryStringParameters Params `json:"queryStringParameters,omitempty"`
	PathParameters        Params `json:"pathParameters,omitempty"`

	// Negotiated is what the adapter will answer, filled in before your
	// RegisterFunc runs (to pick a subprotocol in code, use
	// RegisterOptions.SelectSubprotocol: changing this field has no effect).
	// It is not part of the wire event.
	Negotiated Negotiated `json:"-"`
}

// Negotiated is the outcome of subprotocol and extension negotiation.
type Negotiated struct {
	// Subprotocol is the one subprotocol chosen, or "" for none.
	Subprotocol string
	// Extensions is the Sec-WebSocket-Extensions answer, or "" for none.
	Extensions string
}

// ConnectionID returns websocket.secConnectionID.
func (e *RegisterEvent) ConnectionID() string { return e.WebSocket.SecConnectionID }

// Subprotocols returns the subprotocols the client offered, parsed as
// [ParseSubprotocols] does; nil when it offered none.
func (e *RegisterEvent) Subprotocols() []string {
	return ParseSubprotocols(e.WebSocket.SecWebSocketProtocol)
}

// Extensions returns the extension offers the client made, parsed as
// [ParseExtensions] does; nil when it made none.
func (e *RegisterEvent) Extensions() []Extension {
	return ParseExtensions(e.WebSocket.SecWebSocketExtensions)
}

// TransmissionWebSocket is the websocket object of a transmission event.
type TransmissionWebSocket struct {
	// Action is "data send", or "data recv" from older gateways.
	Action Action `json:"action"`
	// SecConnectionID is the sender's connection.
	SecConnectionID string `json:"secConnectionID"`
	// DataType is "text" or "binary".
	DataType DataType `json:"dataType"`
	// Data is the text itself, or the standard base64 of a binary message.
	// Use [TransmissionEvent.Payload] to get the bytes.
	Data string `json:"data"`
}

// TransmissionEvent is what the transmission function receives when a client
// sends a message (action "data send", or the legacy "data recv").
type TransmissionEvent struct {
	// RequestContext is normally absent (nil).
	RequestContext *RequestContext `json:"requestContext,omitempty"`
	// WebSocket is the event's websocket object.
	WebSocket TransmissionWebSocket `json:"websocket"`
}

// ConnectionID returns websocket.secConnectionID.
func (e *TransmissionEvent) ConnectionID() string { return e.WebSocket.SecConnectionID }

// IsBinary reports whether the message is a binary frame.
func (e *TransmissionEvent) IsBinary() bool { return e.WebSocket.DataType == DataBinary }

// Payload returns the message's bytes: a text message as it is, a binary one
// base64-decoded. An invalid base64 payload yields an error wrapping
// [ErrInvalidData].
func (e *TransmissionEvent) Payload() ([]byte, error) {
	if e.WebSocket.DataType != DataBinary {
		return []byte(e.WebSocket.Data), nil
	}
	b, err := base64.StdEncoding.DecodeString(e.WebSocket.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: binary data of connection %s is not standard base64: %w",
			ErrInvalidData, strconv.Quote(e.WebSocket.SecConnectionID), err)
	}
	return b, nil
}

// DecodeJSON decodes the message's payload (see [TransmissionEvent.Payload])
// as JSON into v. Errors wrap [ErrInvalidData].
func (e *TransmissionEvent) DecodeJSON(v any) error {
	b, err := e.Payload()
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: message is not the expected JSON: %w", ErrInvalidData, err)
	}
	return nil
}

// Message returns the event's message as a [Message] that can be pushed
// to other connections unchanged (binary data is not decoded and re-encoded).
func (e *TransmissionEvent) Message() Message {
	dt := e.WebSocket.DataType
	if dt != DataBinary {
		dt = DataText
	}
	return Message{DataType: dt, Data: e.WebSocket.Data}
}

// CleanupWebSocket is the websocket object of a cleanup event.
type CleanupWebSocket struct {
	// Action is "closing".
	Action Action `json:"action"`
	// SecConnectionID is the connection that closed.
	SecConnectionID string `json:"secConnectionID"`
}

// CleanupEvent is what the cleanup function receives when a client closed
// its connection (action "closing"). No close code or reason is passed, and
// the gateway documents it only for closes the client starts: treat it as
// best effort.
type CleanupEvent struct {
	// RequestContext is normally absent (nil).
	RequestContext *RequestContext `json:"requestContext,omitempty"`
	// WebSocket is the event's websocket object.
	WebSocket CleanupWebSocket `json:"websocket"`
}

// ConnectionID returns websocket.secConnectionID.
func (e *CleanupEvent) ConnectionID() string { return e.WebSocket.SecConnectionID }

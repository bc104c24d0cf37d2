package scfws

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
)

// Action is the websocket.action of an event or a push.
type Action string

// The actions of the gateway's event-function protocol.
const (
	// ActionConnecting is the register event and its answer.
	ActionConnecting Action = "connecting"
	// ActionDataSend is a client message (transmission event) and a push of
	// data to a client.
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

// RequestContext is the requestContext of a register event. Tencent only
// adds fields to it: unknown fields are ignored, a field of an unexpected
// type is left zero, and Raw keeps the whole object as it came, so that a
// field this package does not know yet can still be read.
type RequestContext struct {
	// ServiceID is the API gateway service: serviceId, or serviceName when
	// only that key was sent (both occur in Tencent's documents).
	ServiceID string `json:"serviceId,omitempty"`
	// Path is the API path, e.g. "/websocket".
	Path string `json:"path,omitempty"`
	// HTTPMethod is the handshake's method, "GET".
	HTTPMethod string `json:"httpMethod,omitempty"`
	// RequestID identifies the handshake request at the gateway.
	RequestID string `json:"requestId,omitempty"`
	// Identity is the authentication method and information, as raw JSON
	// (its shape is not documented; "{}" without authentication).
	Identity json.RawMessage `json:"identity,omitempty"`
	// SourceIP is the client's address as the gateway saw it.
	SourceIP string `json:"sourceIp,omitempty"`
	// Stage is the environment the API is published in, e.g. "release".
	Stage string `json:"stage,omitempty"`
	// WebSocketEnable is true for a WebSocket API.
	WebSocketEnable bool `json:"websocketEnable,omitempty"`
	// Raw is the requestContext object as received; nil on events built in
	// code. It is not encoded.
	Raw json.RawMessage `json:"-"`
}

// RegisterWebSocket is the websocket object of a register event, and of the
// answer that accepts it.
type RegisterWebSocket struct {
	// Action is "connecting".
	Action Action `json:"action"`
	// SecConnectionID identifies the connection: opaque, standard base64.
	SecConnectionID string `json:"secConnectionID"`
	// SecWebSocketProtocol is the client's raw Sec-WebSocket-Protocol list
	// ("" when it sent none; read by the adapter, which answers one of them). In an answer: the one
	// subprotocol chosen, the key omitted when none was.
	SecWebSocketProtocol string `json:"secWebSocketProtocol,omitempty"`
	// SecWebSocketExtensions is the client's raw Sec-WebSocket-Extensions
	// list ("" when it sent none; read by the adapter with RegisterOptions.Extensions). In an answer: the
	// accepted extension, the key omitted when none was.
	SecWebSocketExtensions string `json:"secWebSocketExtensions,omitempty"`
}

// RegisterEvent is what the register function receives when a client opens a
// WebSocket (action "connecting").
type RegisterEvent struct {
	// RequestContext is never nil in a RegisterFunc: the adapter refuses an
	// event without one ([ErrMissingRequestContext]).
	RequestContext *RequestContext `json:"requestContext,omitempty"`
	// WebSocket is the event's websocket object.
	WebSocket RegisterWebSocket `json:"websocket"`

	// Headers, HeaderParameters, QueryString, QueryStringParameters and
	// PathParameters are the handshake's request data. Package host (and
	// the emulator) fill Headers (lower-case names) and QueryString with
	// the upgrade request's: authenticate with them there (a browser
	// cannot set headers on a WebSocket: use the query string or a cookie,
	// and see host.Options.OriginPatterns). The legacy API gateway does not
	// document them for this event: decoded when present (an array value is
	// joined with ",", a number, boolean or object keeps its JSON text, null
	// is dropped), nil otherwise — on that gateway, never rely on them.
	Headers               map[string]string `json:"headers,omitempty"`
	HeaderParameters      map[string]string `json:"headerParameters,omitempty"`
	QueryString           map[string]string `json:"queryString,omitempty"`
	QueryStringParameters map[string]string `json:"queryStringParameters,omitempty"`
	PathParameters        map[string]string `json:"pathParameters,omitempty"`

	// Negotiated is what the adapter will answer, filled in from
	// [RegisterOptions] before your RegisterFunc runs. Changing it has no
	// effect on the answer. It is not part of the wire event.
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

// TransmissionWebSocket is the websocket object of a transmission event.
type TransmissionWebSocket struct {
	// Action is "data send", or "data recv" from older gateways.
	Action Action `json:"action"`
	// SecConnectionID is the sender's connection.
	SecConnectionID string `json:"secConnectionID"`
	// DataType is "text" or "binary". Another value is delivered as it came,
	// and its data treated as text.
	DataType DataType `json:"dataType"`
	// Data is the text itself, or the standard base64 of a binary message.
	// [TransmissionEvent.Payload] returns the bytes.
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

// Payload returns the message's bytes: binary data base64-decoded, any other
// data type as it is. Invalid base64 is an error that names the connection
// and wraps the [base64.CorruptInputError].
func (e *TransmissionEvent) Payload() ([]byte, error) {
	if e.WebSocket.DataType != DataBinary {
		return []byte(e.WebSocket.Data), nil
	}
	b, err := base64.StdEncoding.DecodeString(e.WebSocket.Data)
	if err != nil {
		return nil, fmt.Errorf("scfws: binary data of connection %s is not standard base64: %w",
			strconv.Quote(e.WebSocket.SecConnectionID), err)
	}
	return b, nil
}

// Message returns the event's message as a [Message] that can be pushed to
// other connections unchanged: binary data is not decoded and re-encoded; a
// data type other than binary is forwarded as text.
func (e *TransmissionEvent) Message() Message {
	if e.WebSocket.DataType == DataBinary {
		return Message{DataType: DataBinary, Data: e.WebSocket.Data}
	}
	return Message{DataType: DataText, Data: e.WebSocket.Data}
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

package scfws

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// wireEvent is the union of the three events, decoded once by every adapter
// and the Router: one decode path, so they cannot disagree.
type wireEvent struct {
	RequestContext        json.RawMessage `json:"requestContext"`
	WebSocket             *wireWebSocket  `json:"websocket"`
	Headers               params          `json:"headers"`
	HeaderParameters      params          `json:"headerParameters"`
	QueryString           params          `json:"queryString"`
	QueryStringParameters params          `json:"queryStringParameters"`
	PathParameters        params          `json:"pathParameters"`
}

type wireWebSocket struct {
	Action                 Action   `json:"action"`
	SecConnectionID        string   `json:"secConnectionID"`
	SecWebSocketProtocol   string   `json:"secWebSocketProtocol"`
	SecWebSocketExtensions string   `json:"secWebSocketExtensions"`
	DataType               DataType `json:"dataType"`
	Data                   string   `json:"data"`
}

// decode reads a payload and tells which function it is for. Its errors, in
// this order: [ErrMalformedEvent] (not a JSON object of the event's shape),
// [ErrMissingWebSocket], [ErrWrongAction] (an action no function serves).
// The role is ActionConnecting, ActionDataSend or ActionClosing.
func decode(payload []byte) (w *wireEvent, role Action, err error) {
	w = new(wireEvent)
	if err := json.Unmarshal(payload, w); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	if w.WebSocket == nil {
		return nil, "", ErrMissingWebSocket
	}
	switch w.WebSocket.Action {
	case ActionConnecting:
		return w, ActionConnecting, nil
	case ActionDataSend, ActionDataRecv:
		return w, ActionDataSend, nil
	case ActionClosing:
		return w, ActionClosing, nil
	}
	return nil, "", fmt.Errorf("%w: %q", ErrWrongAction, w.WebSocket.Action)
}

// requestContext decodes requestContext leniently: nil when absent or not an
// object; a field of an unexpected type stays zero.
func (w *wireEvent) requestContext() *RequestContext {
	raw := bytes.TrimSpace(w.RequestContext)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var rc struct {
		RequestContext
		ServiceName string `json:"serviceName"`
	}
	_ = json.Unmarshal(raw, &rc) // type errors leave fields zero; the rest is decoded
	if rc.ServiceID == "" {
		rc.ServiceID = rc.ServiceName
	}
	rc.RequestContext.Raw = raw
	return &rc.RequestContext
}

func (w *wireEvent) register() *RegisterEvent {
	ws := w.WebSocket
	return &RegisterEvent{
		RequestContext: w.requestContext(),
		WebSocket: RegisterWebSocket{
			Action:                 ws.Action,
			SecConnectionID:        ws.SecConnectionID,
			SecWebSocketProtocol:   ws.SecWebSocketProtocol,
			SecWebSocketExtensions: ws.SecWebSocketExtensions,
		},
		Headers:               w.Headers,
		HeaderParameters:      w.HeaderParameters,
		QueryString:           w.QueryString,
		QueryStringParameters: w.QueryStringParameters,
		PathParameters:        w.PathParameters,
	}
}

func (w *wireEvent) transmission() *TransmissionEvent {
	ws := w.WebSocket
	return &TransmissionEvent{
		RequestContext: w.requestContext(),
		WebSocket: TransmissionWebSocket{
			Action:          ws.Action,
			SecConnectionID: ws.SecConnectionID,
			DataType:        ws.DataType,
			Data:            ws.Data,
		},
	}
}

func (w *wireEvent) cleanup() *CleanupEvent {
	return &CleanupEvent{
		RequestContext: w.requestContext(),
		WebSocket:      CleanupWebSocket{Action: w.WebSocket.Action, SecConnectionID: w.WebSocket.SecConnectionID},
	}
}

// params is a string map decoded leniently (see [RegisterEvent.Headers]).
type params map[string]string

func (p *params) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		*p = nil
		return nil // undocumented data never makes an event malformed
	}
	if raw == nil {
		*p = nil
		return nil
	}
	out := make(params, len(raw))
	for k, v := range raw {
		if s, ok := lenientString(v); ok {
			out[k] = s
		}
	}
	*p = out
	return nil
}

// lenientString is a JSON value as a string: a string as it is, an array's
// items joined with "," (nested arrays flattened the same way), null
// dropped, anything else as its JSON text. v is valid JSON (it was decoded
// once already); one pass over it, whatever its nesting.
func lenientString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 || string(v) == "null" {
		return "", false
	}
	if v[0] != '[' {
		return scalarText(v), true
	}
	var b strings.Builder
	flatten(&b, v)
	return b.String(), true
}

// scalarText is a string's text or any other value's JSON text.
func scalarText(v []byte) string {
	if v[0] == '"' {
		var s string
		if json.Unmarshal(v, &s) == nil {
			return s
		}
	}
	return string(v)
}

// flatten writes the items of the array at the start of v to b, joined
// with ",", and returns what follows the array.
func flatten(b *strings.Builder, v []byte) []byte {
	v = v[1:] // '['
	for i := 0; ; i++ {
		v = skipSpace(v)
		if len(v) == 0 {
			return v
		}
		if v[0] == ']' {
			return v[1:]
		}
		if v[0] == ',' {
			v = skipSpace(v[1:])
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if v[0] == '[' {
			v = flatten(b, v)
			continue
		}
		end := valueEnd(v)
		if item := v[:end]; string(item) != "null" {
			b.WriteString(scalarText(item))
		}
		v = v[end:]
	}
}

// valueEnd is the length of the JSON value (not an array's start) at v.
func valueEnd(v []byte) int {
	switch v[0] {
	case '"':
		for i := 1; i < len(v); i++ {
			switch v[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(v)
	case '{':
		depth, inString := 0, false
		for i := 0; i < len(v); i++ {
			switch c := v[i]; {
			case inString && c == '\\':
				i++
			case c == '"':
				inString = !inString
			case inString:
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(v)
	}
	i := 0
	for i < len(v) && v[i] != ',' && v[i] != ']' && v[i] != ' ' && v[i] != '\t' && v[i] != '\n' && v[i] != '\r' {
		i++
	}
	return i
}

func skipSpace(v []byte) []byte {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t' || v[0] == '\n' || v[0] == '\r') {
		v = v[1:]
	}
	return v
}

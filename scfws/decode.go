package scfws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// wireEvent is the union of the three events, decoded once, in one pass, by
// every adapter and the Router: one decode path, so they cannot disagree.
type wireEvent struct {
	RequestContext        *RequestContext // nil when absent or not an object
	WebSocket             *wireWebSocket  // nil when absent or null
	Headers               params
	HeaderParameters      params
	QueryString           params
	QueryStringParameters params
	PathParameters        params
}

type wireWebSocket struct {
	Action                 Action
	SecConnectionID        string
	SecWebSocketProtocol   string
	SecWebSocketExtensions string
	DataType               DataType
	Data                   string
}

// decode reads a payload and tells which function it is for. Its errors, in
// this order: [ErrMalformedEvent] (not a JSON object of the event's shape),
// [ErrMissingWebSocket], [ErrWrongAction] (an action no function serves).
// The role is ActionConnecting, ActionDataSend or ActionClosing.
func decode(payload []byte) (*wireEvent, Action, error) {
	w, err := decodeWire(payload)
	if err != nil {
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

// decodeWire reads a payload shaped as an event (a push body is too) once,
// validating all of it, and answers as encoding/json would on the event's
// structs (keys matched without regard to case, the last of repeated keys
// winning, null leaving a field as it is; null as a whole is an empty
// event); requestContext and the undocumented maps are lenient: a value of
// an unexpected type there is dropped, not an error. Its error says why the
// payload is not such an object.
func decodeWire(payload []byte) (*wireEvent, error) {
	s := scanner{b: payload}
	w := new(wireEvent)
	mistyped := false
	if !s.object(func(key []byte) { w.member(&s, key, &mistyped) }) {
		if s.null() && s.atEnd() && s.err == nil {
			return w, nil
		}
		return nil, errors.New("not a JSON object")
	}
	if !s.atEnd() {
		s.fail() // data after the object
	}
	switch {
	case s.err != nil:
		return nil, fmt.Errorf("%w at offset %d", s.err, s.i)
	case mistyped:
		return nil, errors.New("websocket or one of its fields has the wrong type")
	}
	return w, nil
}

// member decodes one member of the event object.
func (w *wireEvent) member(s *scanner, key []byte, mistyped *bool) {
	switch {
	case keyIs(key, "websocket"):
		if s.null() {
			w.WebSocket = nil
			return
		}
		if w.WebSocket == nil {
			w.WebSocket = new(wireWebSocket)
		}
		if !s.object(func(k []byte) { w.WebSocket.member(s, k, mistyped) }) {
			s.skip()
			*mistyped = true
		}
	case keyIs(key, "requestContext"):
		w.RequestContext = s.requestContext()
	case keyIs(key, "headers"):
		w.Headers = s.params()
	case keyIs(key, "headerParameters"):
		w.HeaderParameters = s.params()
	case keyIs(key, "queryString"):
		w.QueryString = s.params()
	case keyIs(key, "queryStringParameters"):
		w.QueryStringParameters = s.params()
	case keyIs(key, "pathParameters"):
		w.PathParameters = s.params()
	default:
		s.skip()
	}
}

// member decodes one member of the websocket object: the fields the SDK
// needs are strings (or null); another type is a malformed event.
func (ws *wireWebSocket) member(s *scanner, key []byte, mistyped *bool) {
	var dst *string
	switch {
	case keyIs(key, "action"):
		dst = (*string)(&ws.Action)
	case keyIs(key, "secConnectionID"):
		dst = &ws.SecConnectionID
	case keyIs(key, "secWebSocketProtocol"):
		dst = &ws.SecWebSocketProtocol
	case keyIs(key, "secWebSocketExtensions"):
		dst = &ws.SecWebSocketExtensions
	case keyIs(key, "dataType"):
		dst = (*string)(&ws.DataType)
	case keyIs(key, "data"):
		dst = &ws.Data
	default:
		s.skip()
		return
	}
	if !s.strOrNull(dst) {
		*mistyped = true
	}
}

// requestContext decodes requestContext leniently: nil when it is not an
// object; a field of an unexpected type stays zero; Raw keeps the object.
func (s *scanner) requestContext() *RequestContext {
	start := s.peekStart()
	rc := new(RequestContext)
	var serviceName string
	ok := s.object(func(key []byte) {
		var dst *string
		switch {
		case keyIs(key, "serviceId"):
			dst = &rc.ServiceID
		case keyIs(key, "serviceName"):
			dst = &serviceName
		case keyIs(key, "path"):
			dst = &rc.Path
		case keyIs(key, "httpMethod"):
			dst = &rc.HTTPMethod
		case keyIs(key, "requestId"):
			dst = &rc.RequestID
		case keyIs(key, "sourceIp"):
			dst = &rc.SourceIP
		case keyIs(key, "stage"):
			dst = &rc.Stage
		case keyIs(key, "identity"):
			if !s.null() {
				rc.Identity = bytes.Clone(s.skip())
			}
			return
		case keyIs(key, "websocketEnable"):
			switch s.peek() {
			case 't':
				s.literal("true")
				rc.WebSocketEnable = true
			case 'f':
				s.literal("false")
				rc.WebSocketEnable = false
			default:
				s.skip()
			}
			return
		default:
			s.skip()
			return
		}
		s.strOrNull(dst)
	})
	if !ok {
		s.skip()
		return nil
	}
	if rc.ServiceID == "" {
		rc.ServiceID = serviceName
	}
	rc.Raw = bytes.Clone(s.b[start:s.i])
	return rc
}

// keyIs matches a key as encoding/json does: exactly, or without regard to
// case.
func keyIs(key []byte, name string) bool {
	return string(key) == name || bytes.EqualFold(key, []byte(name))
}

func (w *wireEvent) register() *RegisterEvent {
	ws := w.WebSocket
	return &RegisterEvent{
		RequestContext: w.RequestContext,
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
		RequestContext: w.RequestContext,
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
		RequestContext: w.RequestContext,
		WebSocket:      CleanupWebSocket{Action: w.WebSocket.Action, SecConnectionID: w.WebSocket.SecConnectionID},
	}
}

// params is a string map decoded leniently (see [RegisterEvent.Headers]).
type params map[string]string

// params decodes an object of undocumented request data; nil for any other
// value.
func (s *scanner) params() params {
	if s.peek() != '{' {
		s.skip()
		return nil
	}
	out := make(params, 16) // a browser sends about 14 headers
	s.object(func(key []byte) {
		k := string(key)
		if s.peek() == '"' {
			out[k] = s.str()
		} else if v, ok := lenientString(s.skip()); ok {
			out[k] = v
		}
	})
	return out
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
	if v[0] != '"' {
		return string(v)
	}
	if in := v[1 : len(v)-1]; bytes.IndexByte(in, '\\') < 0 && utf8.Valid(in) {
		return string(in)
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
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

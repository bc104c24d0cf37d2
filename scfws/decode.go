package scfws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// wireEvent is the union of the three events, decoded once, with
// encoding/json, by every adapter and the Router: one decode path, so they
// cannot disagree.
type wireEvent struct {
	RequestContext        wireRequestContext `json:"requestContext"`
	WebSocket             *wireWebSocket     `json:"websocket"`
	Headers               params             `json:"headers"`
	HeaderParameters      params             `json:"headerParameters"`
	QueryString           params             `json:"queryString"`
	QueryStringParameters params             `json:"queryStringParameters"`
	PathParameters        params             `json:"pathParameters"`
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
// [ErrMissingWebSocket] (with the event, whose requestContext the register
// answer looks at first), [ErrWrongAction] (an action no function serves).
// The role is ActionConnecting, ActionDataSend or ActionClosing.
func decode(payload []byte) (*wireEvent, Action, error) {
	w, err := decodeWire(payload)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	if w.WebSocket == nil {
		return w, "", ErrMissingWebSocket
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

// decodeWire reads a payload shaped as an event (a push body is too) with
// encoding/json: keys matched without regard to case, the last of repeated
// keys winning, null leaving a field as it is (null as a whole is an empty
// event). The websocket object must have the event's types; requestContext
// and the undocumented maps are lenient: a value of an unexpected type
// there is dropped, not an error. Its error says why the payload is not
// such an object.
func decodeWire(payload []byte) (*wireEvent, error) {
	if w, ok := decodePlain(payload); ok {
		return w, nil
	}
	w := new(wireEvent)
	err := json.Unmarshal(payload, w)
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te) && te.Field == "":
		return nil, errors.New("not a JSON object")
	case errors.As(err, &te):
		return nil, errors.New("websocket or one of its fields has the wrong type")
	case err != nil:
		return nil, err
	}
	return w, nil
}

// plainEvent is an event whose undocumented maps hold only strings, as
// they do from a gateway: decoded in one pass, without the lenient types'
// second look at each value.
type plainEvent struct {
	RequestContext        json.RawMessage   `json:"requestContext"`
	WebSocket             *wireWebSocket    `json:"websocket"`
	Headers               map[string]string `json:"headers"`
	HeaderParameters      map[string]string `json:"headerParameters"`
	QueryString           map[string]string `json:"queryString"`
	QueryStringParameters map[string]string `json:"queryStringParameters"`
	PathParameters        map[string]string `json:"pathParameters"`
}

// decodePlain decodes payload as a plainEvent; false when it is not one
// (a null anywhere, a value of another type, or not JSON), and the lenient
// decoding must answer. Both answer alike where both apply (FuzzDecode).
func decodePlain(payload []byte) (*wireEvent, bool) {
	var p plainEvent
	if bytes.Contains(payload, []byte("null")) || json.Unmarshal(payload, &p) != nil {
		return nil, false
	}
	w := &wireEvent{WebSocket: p.WebSocket, Headers: p.Headers, HeaderParameters: p.HeaderParameters,
		QueryString: p.QueryString, QueryStringParameters: p.QueryStringParameters, PathParameters: p.PathParameters}
	if p.RequestContext != nil {
		if err := w.RequestContext.decode(p.RequestContext); err != nil { // a copy already
			return nil, false
		}
	}
	return w, true
}

// wireRequestContext is requestContext decoded leniently: nil when it is
// not an object; a field of an unexpected type stays zero; Raw keeps the
// object; serviceName is read when serviceId is absent.
type wireRequestContext struct{ rc *RequestContext }

func (w *wireRequestContext) UnmarshalJSON(b []byte) error {
	return w.decode(bytes.Clone(b)) // b is the caller's
}

// decode decodes raw, which it keeps as Raw.
func (w *wireRequestContext) decode(raw []byte) error {
	w.rc = nil
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var f struct {
		RequestContext
		ServiceName string `json:"serviceName"`
	}
	if err := json.Unmarshal(raw, &f); err != nil && !isTypeError(err) {
		return err
	}
	rc := f.RequestContext
	if rc.ServiceID == "" {
		rc.ServiceID = f.ServiceName
	}
	if string(rc.Identity) == "null" {
		rc.Identity = nil
	}
	rc.Raw = raw
	w.rc = &rc
	return nil
}

func isTypeError(err error) bool {
	var te *json.UnmarshalTypeError
	return errors.As(err, &te)
}

// params is a string map decoded leniently (see [RegisterEvent.Headers]):
// nil unless an object; an array value joined with ",", a number, boolean
// or object kept as its JSON text, null dropped.
type params map[string]string

func (p *params) UnmarshalJSON(b []byte) error {
	*p = nil
	if len(b) == 0 || b[0] != '{' {
		return nil
	}
	var plain map[string]string // every value a string: the usual case (a null would become "")
	if !bytes.Contains(b, []byte("null")) && json.Unmarshal(b, &plain) == nil {
		*p = plain
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
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
// dropped, anything else as its JSON text. v is valid JSON; one pass over
// it, whatever its nesting.
func lenientString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	switch {
	case len(v) == 0 || string(v) == "null":
		return "", false
	case v[0] == '"':
		var s string
		_ = json.Unmarshal(v, &s)
		return s, true
	case v[0] != '[':
		return string(v), true
	}
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var b strings.Builder
	items := []int{} // items written so far, per open array
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF || err != nil {
			break
		}
		if d, ok := tok.(json.Delim); ok && d == ']' {
			items = items[:len(items)-1]
			continue
		}
		if len(items) > 0 {
			if items[len(items)-1] > 0 {
				b.WriteByte(',')
			}
			items[len(items)-1]++
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '[' {
				items = append(items, 0)
				continue
			}
			// an object: its text as it came
			for depth := 1; depth > 0; {
				tok, err := dec.Token()
				if err != nil {
					break
				}
				if d, ok := tok.(json.Delim); ok {
					depth += map[json.Delim]int{'{': 1, '[': 1, '}': -1, ']': -1}[d]
				}
			}
			b.Write(bytes.TrimLeft(v[start:dec.InputOffset()], " \t\r\n,"))
		case string:
			b.WriteString(t)
		case json.Number:
			b.WriteString(t.String())
		case bool:
			b.WriteString(fmt.Sprint(t))
		case nil: // null: an empty item
		}
	}
	return b.String(), true
}

func (w *wireEvent) register() *RegisterEvent {
	ws := w.WebSocket
	return &RegisterEvent{
		RequestContext: w.RequestContext.rc,
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
		RequestContext: w.RequestContext.rc,
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
		RequestContext: w.RequestContext.rc,
		WebSocket:      CleanupWebSocket{Action: w.WebSocket.Action, SecConnectionID: w.WebSocket.SecConnectionID},
	}
}

package scfws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"
)

// decodeReference is decode written with encoding/json on the event's
// structs (the package's first implementation): the single-pass decoder
// must answer exactly as it does.
func decodeReference(payload []byte) (*wireEvent, Action, error) {
	var w struct {
		RequestContext        json.RawMessage `json:"requestContext"`
		WebSocket             *wireWebSocketJSON
		Headers               refParams `json:"headers"`
		HeaderParameters      refParams `json:"headerParameters"`
		QueryString           refParams `json:"queryString"`
		QueryStringParameters refParams `json:"queryStringParameters"`
		PathParameters        refParams `json:"pathParameters"`
	}
	if err := json.Unmarshal(payload, &w); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrMalformedEvent, err)
	}
	if w.WebSocket == nil {
		return nil, "", ErrMissingWebSocket
	}
	out := &wireEvent{WebSocket: (*wireWebSocket)(w.WebSocket), Headers: params(w.Headers),
		HeaderParameters: params(w.HeaderParameters), QueryString: params(w.QueryString),
		QueryStringParameters: params(w.QueryStringParameters), PathParameters: params(w.PathParameters)}
	if raw := bytes.TrimSpace(w.RequestContext); len(raw) > 0 && raw[0] == '{' {
		var rc struct {
			RequestContext
			ServiceName string `json:"serviceName"`
		}
		_ = json.Unmarshal(raw, &rc)
		if rc.ServiceID == "" {
			rc.ServiceID = rc.ServiceName
		}
		rc.RequestContext.Raw = raw
		out.RequestContext = &rc.RequestContext
	}
	switch w.WebSocket.Action {
	case ActionConnecting:
		return out, ActionConnecting, nil
	case ActionDataSend, ActionDataRecv:
		return out, ActionDataSend, nil
	case ActionClosing:
		return out, ActionClosing, nil
	}
	return nil, "", fmt.Errorf("%w: %q", ErrWrongAction, w.WebSocket.Action)
}

type wireWebSocketJSON struct {
	Action                 Action   `json:"action"`
	SecConnectionID        string   `json:"secConnectionID"`
	SecWebSocketProtocol   string   `json:"secWebSocketProtocol"`
	SecWebSocketExtensions string   `json:"secWebSocketExtensions"`
	DataType               DataType `json:"dataType"`
	Data                   string   `json:"data"`
}

type refParams map[string]string

func (p *refParams) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if json.Unmarshal(b, &raw) != nil || raw == nil {
		*p = nil
		return nil
	}
	out := make(refParams, len(raw))
	for k, v := range raw {
		if s, ok := lenientString(v); ok {
			out[k] = s
		}
	}
	*p = out
	return nil
}

// sentinelOf names the refusal an error wraps.
func sentinelOf(err error) error {
	for _, s := range []error{ErrMalformedEvent, ErrMissingWebSocket, ErrWrongAction} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

// assertDecodesAsReference: decode and decodeReference agree on payload.
func assertDecodesAsReference(t testing.TB, payload []byte) {
	t.Helper()
	got, gotRole, gotErr := decode(payload)
	want, wantRole, wantErr := decodeReference(payload)
	if sentinelOf(gotErr) != sentinelOf(wantErr) || gotRole != wantRole {
		t.Fatalf("payload %q: decode says %v (%q), encoding/json %v (%q)", payload, gotErr, gotRole, wantErr, wantRole)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("payload %q:\n decode        %+v %+v\n encoding/json %+v %+v", payload, got, ptrs(got), want, ptrs(want))
	}
}

func ptrs(w *wireEvent) string {
	if w == nil {
		return ""
	}
	return fmt.Sprintf("rc=%+v ws=%+v", w.RequestContext, w.WebSocket)
}

// TestDecodeAsReference runs the fixtures and the tables of handler_test.go
// and some tricky shapes through both decoders.
func TestDecodeAsReference(t *testing.T) {
	payloads := []string{
		``, ` `, `null`, ` null `, `null x`, `[]`, `"s"`, `1`, `{`, `{}`, `{"websocket":null}`, `{"websocket":[]}`,
		`{"websocket":{"action":5}}`, `{"websocket":{"action":null,"secConnectionID":"a"}}`,
		`{"WebSocket":{"ACTION":"closing","secconnectionid":"a"}}`,
		`{"websocket":{"action":"closing","secConnectionID":"a"},"websocket":{"secConnectionID":"b"}}`,
		`{"websocket":{"action":"closing","secConnectionID":"a"},"websocket":null}`,
		`{"requestContext":{"serviceName":"n","identity":{"a":[1,2]},"websocketEnable":"true","sourceIp":7},"websocket":{"action":"connecting","secConnectionID":"\u00e9\ud800x"}}`,
		`{"requestContext":[1],"headers":{"a":[["b"],null,{"c":"]"}],"b":1e5,"\u0061":"x"},"queryString":"no","websocket":{"action":"data send","secConnectionID":"a","dataType":"text","data":"\xff"}}`,
		`{"websocket":{"action":"closing","secConnectionID":"a"}} trailing`, `{"a":01}`, `{"a":-}`, `{"a":1.}`, `{"a":"\x01"}`,
		`{"a":"\q"}`, `{"a":tru}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":[1,]}`,
	}
	for _, raw := range fixtures(t) {
		payloads = append(payloads, string(raw))
	}
	for _, tc := range registerCases {
		payloads = append(payloads, tc.payload)
	}
	for _, tc := range streamCases {
		payloads = append(payloads, tc.payload)
	}
	for _, p := range payloads {
		assertDecodesAsReference(t, []byte(p))
	}
}

// FuzzDecode: the single-pass decoder answers every payload as the
// encoding/json one.
func FuzzDecode(f *testing.F) {
	seedEvents(f)
	f.Fuzz(func(t *testing.T, payload []byte) { assertDecodesAsReference(t, payload) })
}

// TestResponseMarshalAsJSON: the hand-written encoder writes what
// encoding/json writes.
func TestResponseMarshalAsJSON(t *testing.T) {
	odd := `a+/b=<&>"\` + "\u2028\x00é\xff"
	for _, r := range []Response{
		{}, {ErrNo: -3, ErrMsg: odd}, {ErrNo: 500, ErrMsg: "internal error"},
		{ErrMsg: "ok", WebSocket: &RegisterWebSocket{Action: ActionConnecting, SecConnectionID: odd}},
		{ErrMsg: "ok", WebSocket: &RegisterWebSocket{Action: ActionConnecting, SecConnectionID: "a",
			SecWebSocketProtocol: odd, SecWebSocketExtensions: "permessage-deflate; x=1"}},
	} {
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.marshal(); string(got) != string(want) {
			t.Errorf("marshal %s, encoding/json %s", got, want)
		}
	}
}

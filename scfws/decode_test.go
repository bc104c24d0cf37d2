package scfws

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDecodeShapes: what encoding/json makes of tricky payloads, as the
// adapters rely on it: keys without regard to case, the last repeated key
// winning (objects merged), null leaving a field, lenient requestContext
// and maps, a strict websocket object.
func TestDecodeShapes(t *testing.T) {
	cases := map[string]struct {
		payload string
		err     error // the sentinel, or nil
		check   func(t *testing.T, w *wireEvent)
	}{
		"empty":          {``, ErrMalformedEvent, nil},
		"null":           {`null`, ErrMissingWebSocket, nil},
		"array":          {`[]`, ErrMalformedEvent, nil},
		"trailing data":  {`{"websocket":{"action":"closing","secConnectionID":"a"}} x`, ErrMalformedEvent, nil},
		"bad number":     {`{"a":01}`, ErrMalformedEvent, nil},
		"bad escape":     {`{"a":"\q"}`, ErrMalformedEvent, nil},
		"trailing comma": {`{"a":1,}`, ErrMalformedEvent, nil},
		"websocket list": {`{"websocket":[]}`, ErrMalformedEvent, nil},
		"action number":  {`{"websocket":{"action":5}}`, ErrMalformedEvent, nil},
		"websocket null": {`{"websocket":{"action":"closing","secConnectionID":"a"},"websocket":null}`, ErrMissingWebSocket, nil},
		"wrong action":   {`{"websocket":{"action":"dance","secConnectionID":"a"}}`, ErrWrongAction, nil},
		"any case": {`{"WebSocket":{"ACTION":"closing","secconnectionid":"a"}}`, nil, func(t *testing.T, w *wireEvent) {
			assert.Equal(t, "a", w.WebSocket.SecConnectionID)
		}},
		"repeated objects merge": {`{"websocket":{"action":"closing","secConnectionID":"a"},"websocket":{"secConnectionID":"b"}}`, nil,
			func(t *testing.T, w *wireEvent) {
				assert.Equal(t, wireWebSocket{Action: ActionClosing, SecConnectionID: "b"}, *w.WebSocket)
			}},
		"null string leaves the field": {`{"websocket":{"action":"closing","secConnectionID":"a"},"websocket":{"secConnectionID":null}}`, nil,
			func(t *testing.T, w *wireEvent) { assert.Equal(t, "a", w.WebSocket.SecConnectionID) }},
		"lenient requestContext": {`{"requestContext":{"serviceName":"n","identity":null,"websocketEnable":"true","sourceIp":7,"path":"/p"},` +
			`"websocket":{"action":"connecting","secConnectionID":"a"}}`, nil, func(t *testing.T, w *wireEvent) {
			rc := w.RequestContext.rc
			require.NotNil(t, rc)
			assert.Equal(t, "n", rc.ServiceID, "serviceName when serviceId is absent")
			assert.Equal(t, "/p", rc.Path)
			assert.Empty(t, rc.SourceIP, "a number where a string belongs is left zero")
			assert.False(t, rc.WebSocketEnable)
			assert.Nil(t, rc.Identity, "identity null")
			assert.Contains(t, string(rc.Raw), `"sourceIp":7`)
		}},
		"requestContext not an object": {`{"requestContext":[1],"websocket":{"action":"connecting","secConnectionID":"a"}}`, nil,
			func(t *testing.T, w *wireEvent) { assert.Nil(t, w.RequestContext.rc) }},
		"lenient maps": {`{"headers":{"a":[["b"],null,{"c":"]"}],"b":1e5,"\u0063":"x","d":null,"e":true},"queryString":"no",` +
			`"websocket":{"action":"data send","secConnectionID":"a","dataType":"text","data":"d"}}`, nil,
			func(t *testing.T, w *wireEvent) {
				assert.Equal(t, params{"a": `b,,{"c":"]"}`, "b": "1e5", "c": "x", "e": "true"}, w.Headers)
				assert.Nil(t, w.QueryString)
			}},
		"repeated header key set to null": {`{"headers":{"a":"x","a":null},"websocket":{"action":"closing","secConnectionID":"a"}}`, nil,
			func(t *testing.T, w *wireEvent) { assert.Equal(t, params{}, w.Headers, "null drops the key") }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w, _, err := decode([]byte(tc.payload))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			tc.check(t, w)
		})
	}
}

// FuzzDecode: no payload makes the decoder panic; where the one-pass
// decoding of a plain event applies, the lenient one answers the same; and
// what it accepts it accepts again once re-encoded as the wire types.
func FuzzDecode(f *testing.F) {
	seedEvents(f)
	f.Fuzz(func(t *testing.T, payload []byte) {
		if plain, ok := decodePlain(payload); ok {
			var lenient wireEvent
			if err := json.Unmarshal(payload, &lenient); err != nil || !reflect.DeepEqual(plain, &lenient) {
				t.Fatalf("%q: one pass %+v, lenient %+v (%v)", payload, plain, lenient, err)
			}
		}
		w, _, err := decode(payload)
		if err != nil {
			return
		}
		again, err := json.Marshal(struct {
			WebSocket *wireWebSocket `json:"websocket"`
		}{w.WebSocket})
		if err != nil {
			t.Fatal(err)
		}
		if w2, _, err := decode(again); err != nil || *w2.WebSocket != *w.WebSocket {
			t.Fatalf("%q decodes to %+v, re-encoded %s decodes to %+v (%v)", payload, w.WebSocket, again, w2, err)
		}
	})
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

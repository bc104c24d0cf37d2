package scfws

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scfws/scfws-go/internal/wsheader"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in ../testdata/responses")

// fixtures returns the event fixtures by base name.
func fixtures(t testing.TB) map[string][]byte {
	t.Helper()
	paths, err := filepath.Glob("../testdata/events/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	out := make(map[string][]byte, len(paths))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		out[strings.TrimSuffix(filepath.Base(p), ".json")] = b
	}
	return out
}

// decodeAs decodes a fixture through the adapters' decode path.
func decodeAs(t *testing.T, raw []byte) any {
	t.Helper()
	w, role, err := decode(raw)
	require.NoError(t, err)
	switch role {
	case ActionConnecting:
		return w.register()
	case ActionDataSend:
		return w.transmission()
	}
	return w.cleanup()
}

// TestEventRoundTrip decodes every fixture into its typed event through the
// adapters' decode path and encodes it again: nothing documented is lost or
// invented (serviceName is read as serviceId).
func TestEventRoundTrip(t *testing.T) {
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			out, err := json.Marshal(decodeAs(t, raw))
			require.NoError(t, err)
			want := strings.Replace(string(raw), `"serviceName"`, `"serviceId"`, 1)
			assert.JSONEq(t, want, string(out))
		})
	}
}

// goldenRouter is the configuration the golden answers were made with.
func goldenRouter() *Router {
	return &Router{RegisterOptions: &RegisterOptions{
		Subprotocols: []string{"superchat", "chat"},
		Extensions:   []string{"permessage-deflate"},
	}}
}

// TestGoldenResponses runs every fixture through a Router and compares the
// answer with testdata/responses/<fixture>.json (go test -update rewrites them).
func TestGoldenResponses(t *testing.T) {
	r := goldenRouter()
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			got, err := r.Invoke(context.Background(), raw)
			require.NoError(t, err)
			path := filepath.Join("../testdata/responses", name+".json")
			if *update {
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err)
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

func TestRegisterEventFields(t *testing.T) {
	ev := decodeAs(t, fixtures(t)["register-headers"]).(*RegisterEvent)
	assert.Equal(t, "AAAAAAAAAAAAAAAAAAAAAA==", ev.ConnectionID())
	assert.Equal(t, []string{"chat", "superchat"}, wsheader.ParseSubprotocols(ev.WebSocket.SecWebSocketProtocol))
	assert.Equal(t, []wsheader.Extension{
		{Name: "permessage-deflate", Params: []wsheader.ExtensionParam{{Name: "client_max_window_bits"}}},
		{Name: "permessage-deflate"},
	}, wsheader.ParseExtensions(ev.WebSocket.SecWebSocketExtensions))
	assert.Equal(t, "lobby", ev.QueryString["room"])
	assert.Equal(t, "https://example.com", ev.Headers["origin"])
	assert.Equal(t, "service-abc", ev.RequestContext.ServiceID)

	legacy := decodeAs(t, fixtures(t)["register-servicename"]).(*RegisterEvent)
	assert.Equal(t, "service-legacy", legacy.RequestContext.ServiceID)
	assert.Contains(t, string(legacy.RequestContext.Raw), `"serviceName"`, "Raw keeps the object as it came")
}

// TestRequestContextLenient: a field of an unexpected type, or one this
// package does not know, never refuses the connection; Raw keeps them.
func TestRequestContextLenient(t *testing.T) {
	raw := `{"requestContext":{"serviceId":"s","websocketEnable":"true","sourceIp":7,"stage":"release",
		"identity":{"secretId":"AKID","method":"key"},"newField":{"x":1}},
		"websocket":{"action":"connecting","secConnectionID":"x"}}`
	ev := decodeAs(t, []byte(raw)).(*RegisterEvent)
	rc := ev.RequestContext
	require.NotNil(t, rc)
	assert.Equal(t, "s", rc.ServiceID)
	assert.Equal(t, "release", rc.Stage)
	assert.False(t, rc.WebSocketEnable)
	assert.Empty(t, rc.SourceIP)
	assert.JSONEq(t, `{"secretId":"AKID","method":"key"}`, string(rc.Identity))
	var extra struct{ NewField struct{ X int } }
	require.NoError(t, json.Unmarshal(rc.Raw, &extra))
	assert.Equal(t, 1, extra.NewField.X)

	out, err := NewRegisterHandler(nil, nil).Invoke(context.Background(), []byte(raw))
	require.NoError(t, err)
	assert.Contains(t, string(out), `"errNo":0`)
}

func TestParamsLenient(t *testing.T) {
	raw := `{"requestContext":{},"headers":{"a":"x","b":["1","2"],"c":3,"d":true,"e":null,"f":{"g":1}},
		"queryString":"not an object","websocket":{"action":"connecting","secConnectionID":"x"}}`
	ev := decodeAs(t, []byte(raw)).(*RegisterEvent)
	assert.Equal(t, map[string]string{"a": "x", "b": "1,2", "c": "3", "d": "true", "f": `{"g":1}`}, ev.Headers)
	assert.Nil(t, ev.QueryString, "undocumented data of another shape is dropped, not refused")
}

func TestTransmissionPayload(t *testing.T) {
	cases := map[string]struct {
		dataType DataType
		data     string
		want     []byte
		wantErr  bool
	}{
		"text":                {DataText, "hello", []byte("hello"), false},
		"empty text":          {DataText, "", []byte{}, false},
		"unknown type":        {"blob", "as is", []byte("as is"), false},
		"binary":              {DataBinary, "AAEC/f7/", []byte{0, 1, 2, 0xfd, 0xfe, 0xff}, false},
		"binary invalid":      {DataBinary, "not base64!", nil, true},
		"binary url alphabet": {DataBinary, "AAEC_f7_", nil, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := &TransmissionEvent{WebSocket: TransmissionWebSocket{
				Action: ActionDataSend, SecConnectionID: "id", DataType: tc.dataType, Data: tc.data}}
			got, err := ev.Payload()
			if tc.wantErr {
				var corrupt base64.CorruptInputError
				require.ErrorAs(t, err, &corrupt)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTransmissionMessage(t *testing.T) {
	ev := decodeAs(t, fixtures(t)["transmission-binary"]).(*TransmissionEvent)
	assert.Equal(t, Message{DataType: DataBinary, Data: "AAEC/f7/"}, ev.Message(), "binary data is forwarded as it came")
	assert.Equal(t, Binary([]byte{0, 1, 2, 0xfd, 0xfe, 0xff}), ev.Message())
	ev.WebSocket.DataType = "blob"
	assert.Equal(t, Text("AAEC/f7/"), ev.Message(), "an unknown data type is forwarded as text")
}

// TestUnknownDataTypeDelivered: a data type the gateway may add one day
// reaches the TransmissionFunc instead of failing the invocation (which
// would drop the client).
func TestUnknownDataTypeDelivered(t *testing.T) {
	var got *TransmissionEvent
	h := NewTransmissionHandler(func(_ context.Context, ev *TransmissionEvent) error { got = ev; return nil })
	_, err := h.Invoke(context.Background(), []byte(`{"websocket":{"action":"data send","secConnectionID":"x","dataType":"ping","data":"p"}}`))
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, DataType("ping"), got.WebSocket.DataType)
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		payload string
		want    error
	}{
		"not json":       {`{`, ErrMalformedEvent},
		"array":          {`[]`, ErrMalformedEvent},
		"string":         {`"connecting"`, ErrMalformedEvent},
		"empty":          {``, ErrMalformedEvent},
		"ws wrong type":  {`{"websocket":"x"}`, ErrMalformedEvent},
		"id wrong type":  {`{"websocket":{"action":"connecting","secConnectionID":5}}`, ErrMalformedEvent},
		"no ws":          {`{"requestContext":{}}`, ErrMissingWebSocket},
		"null":           {`null`, ErrMissingWebSocket},
		"null ws":        {`{"websocket":null}`, ErrMissingWebSocket},
		"unknown action": {`{"websocket":{"action":"foo","secConnectionID":"x"}}`, ErrWrongAction},
		"no action":      {`{"websocket":{"secConnectionID":"x"}}`, ErrWrongAction},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := decode([]byte(tc.payload))
			require.ErrorIs(t, err, tc.want)
		})
	}
}

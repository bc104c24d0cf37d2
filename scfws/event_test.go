package scfws

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

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

// TestEventRoundTrip decodes every fixture into its typed event and encodes
// it again: nothing documented is lost or invented.
func TestEventRoundTrip(t *testing.T) {
	for name, raw := range fixtures(t) {
		t.Run(name, func(t *testing.T) {
			var ev any
			switch {
			case strings.HasPrefix(name, "register"):
				ev = new(RegisterEvent)
			case strings.HasPrefix(name, "transmission"):
				ev = new(TransmissionEvent)
			case strings.HasPrefix(name, "cleanup"):
				ev = new(CleanupEvent)
			default:
				t.Fatalf("fixture %s has no event type", name)
			}
			require.NoError(t, json.Unmarshal(raw, ev))
			out, err := json.Marshal(ev)
			require.NoError(t, err)
			assert.JSONEq(t, string(raw), string(out))
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

func TestRegisterEventHelpers(t *testing.T) {
	ev, err := DecodeRegisterEvent(fixtures(t)["register-headers"])
	require.NoError(t, err)
	assert.Equal(t, "AAAAAAAAAAAAAAAAAAAAAA==", ev.ConnectionID())
	assert.Equal(t, []string{"chat", "superchat"}, ev.Subprotocols())
	assert.Equal(t, []Extension{
		{Name: "permessage-deflate", Params: []ExtensionParam{{Name: "client_max_window_bits"}}},
		{Name: "permessage-deflate"},
	}, ev.Extensions())
	assert.Equal(t, "lobby", ev.QueryString["room"])
	assert.Equal(t, "https://example.com", ev.Headers["origin"])
	assert.Equal(t, "service-abc", ev.RequestContext.Service())

	legacy, err := DecodeRegisterEvent(fixtures(t)["register-servicename"])
	require.NoError(t, err)
	assert.Equal(t, "service-legacy", legacy.RequestContext.Service())
	assert.Empty(t, (*RequestContext)(nil).Service())
}

func TestParamsLenient(t *testing.T) {
	var ev RegisterEvent
	raw := `{"requestContext":{},"headers":{"a":"x","b":["1","2"],"c":3,"d":true,"e":null,"f":{"g":1}},
		"websocket":{"action":"connecting","secConnectionID":"x"}}`
	require.NoError(t, json.Unmarshal([]byte(raw), &ev))
	assert.Equal(t, Params{"a": "x", "b": "1,2", "c": "3", "d": "true", "f": `{"g":1}`}, ev.Headers)
}

func TestTransmissionPayload(t *testing.T) {
	cases := map[string]struct {
		dataType DataType
		data     string
		want     []byte
		wantErr  error
	}{
		"text":                {DataText, "hello", []byte("hello"), nil},
		"empty text":          {DataText, "", []byte{}, nil},
		"binary":              {DataBinary, "AAEC/f7/", []byte{0, 1, 2, 0xfd, 0xfe, 0xff}, nil},
		"binary invalid":      {DataBinary, "not base64!", nil, ErrInvalidData},
		"binary url alphabet": {DataBinary, "AAEC_f7_", nil, ErrInvalidData},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ev := &TransmissionEvent{WebSocket: TransmissionWebSocket{
				Action: ActionDataSend, SecConnectionID: "id", DataType: tc.dataType, Data: tc.data}}
			got, err := ev.Payload()
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestTransmissionDecodeJSON(t *testing.T) {
	ev, err := DecodeTransmissionEvent(fixtures(t)["transmission-data-recv"])
	require.NoError(t, err)
	var msg struct{ Msg string }
	require.NoError(t, ev.DecodeJSON(&msg))
	assert.Equal(t, "hi", msg.Msg)

	bad := &TransmissionEvent{WebSocket: TransmissionWebSocket{DataType: DataText, Data: "{"}}
	require.ErrorIs(t, bad.DecodeJSON(&msg), ErrInvalidData)
}

func TestTransmissionMessageKeepsWireData(t *testing.T) {
	ev, err := DecodeTransmissionEvent(fixtures(t)["transmission-binary"])
	require.NoError(t, err)
	assert.Equal(t, Message{DataType: DataBinary, Data: "AAEC/f7/"}, ev.Message())
	assert.Equal(t, BinaryMessage([]byte{0, 1, 2, 0xfd, 0xfe, 0xff}), ev.Message())
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]struct {
		payload string
		decode  func([]byte) error
		want    error
	}{
		"register not json":     {`{`, decodeReg, ErrMalformedEvent},
		"register array":        {`[]`, decodeReg, ErrMalformedEvent},
		"register no rc":        {`{"websocket":{"action":"connecting","secConnectionID":"x"}}`, decodeReg, ErrMissingRequestContext},
		"register no ws":        {`{"requestContext":{}}`, decodeReg, ErrMissingWebSocket},
		"register wrong action": {`{"requestContext":{},"websocket":{"action":"closing","secConnectionID":"x"}}`, decodeReg, ErrWrongAction},
		"register empty id":     {`{"requestContext":{},"websocket":{"action":"connecting"}}`, decodeReg, ErrMissingConnectionID},
		"transmission bad type": {`{"websocket":{"action":"data send","secConnectionID":"x","dataType":"blob","data":""}}`, decodeTx, ErrMalformedEvent},
		"transmission wrong":    {`{"websocket":{"action":"closing","secConnectionID":"x"}}`, decodeTx, ErrWrongAction},
		"transmission no ws":    {`{}`, decodeTx, ErrMissingWebSocket},
		"transmission ws type":  {`{"websocket":"x"}`, decodeTx, ErrMalformedEvent},
		"cleanup empty id":      {`{"websocket":{"action":"closing","secConnectionID":""}}`, decodeCl, ErrMissingConnectionID},
		"cleanup wrong":         {`{"websocket":{"action":"data send","secConnectionID":"x"}}`, decodeCl, ErrWrongAction},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			require.ErrorIs(t, tc.decode([]byte(tc.payload)), tc.want)
		})
	}
}

func decodeReg(b []byte) error { _, err := DecodeRegisterEvent(b); return err }
func decodeTx(b []byte) error  { _, err := DecodeTransmissionEvent(b); return err }
func decodeCl(b []byte) error  { _, err := DecodeCleanupEvent(b); return err }
